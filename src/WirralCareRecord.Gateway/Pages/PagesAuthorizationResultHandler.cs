using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Pages;

/// <summary>
/// Refusals of page requests (those whose policy names the page cookie) go to the sign-in or access-denied page, as a
/// browser expects; everything else is answered by the API's handler with an OperationOutcome. A page refusal is
/// audited as an API refusal is.
/// </summary>
internal sealed class PagesAuthorizationResultHandler(FhirAuthorizationResultHandler api, AuditTrail audit, IOptions<GatewayAuthenticationOptions> options)
    : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _pages = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (!policy.AuthenticationSchemes.Contains(PagesFeature.CookieScheme))
        {
            await api.HandleAsync(next, context, policy, authorizeResult);
            return;
        }

        if (authorizeResult.Forbidden)
        {
            var reasons = authorizeResult.AuthorizationFailure?.FailureReasons.Select(r => r.Message).ToList() ?? [];
            await audit.RecordAsync(
                AccessAudit.For(
                    CallerIdentity.From(context.User, options.Value),
                    context.Request.Path.StartsWithSegments("/record") ? AccessKind.FederatedRead : AccessKind.AdminAction,
                    context.CorrelationId(),
                    null,
                    $"{context.Request.Method} {context.Request.Path}",
                    StatusCodes.Status403Forbidden,
                    reasons.Count > 0 ? string.Join(" ", reasons) : "You are signed in but not allowed to do this.",
                    []),
                context.RequestAborted);
        }

        await _pages.HandleAsync(next, context, policy, authorizeResult);
    }
}
