using Hl7.Fhir.Model;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Authentication;

/// <summary>
/// Answers refusals with an OperationOutcome saying why, and audits every refusal before answering
/// (a refusal that cannot be audited becomes a 503, like any other unaudited access).
/// </summary>
internal sealed class FhirAuthorizationResultHandler(AuditTrail audit, IOptions<GatewayAuthenticationOptions> options) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Succeeded)
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
            return;
        }

        var challenged = authorizeResult.Challenged;
        var status = challenged ? StatusCodes.Status401Unauthorized : StatusCodes.Status403Forbidden;
        var message = challenged
            ? "Sign-in is required: send a valid bearer token from Microsoft Entra ID (Authorization: Bearer ...). The token was missing, expired, or not issued for this gateway."
            : string.Join(" ", authorizeResult.AuthorizationFailure?.FailureReasons.Select(r => r.Message) is { } reasons && reasons.Any()
                ? reasons
                : ["You are signed in but not allowed to do this."]);

        var caller = CallerIdentity.From(context.User, options.Value);
        await audit.RecordAsync(
            AccessAudit.For(
                caller,
                context.Request.Path.StartsWithSegments("/sources") ? AccessKind.SourceRead
                    : context.Request.Path.StartsWithSegments("/admin") ? AccessKind.AdminAction : AccessKind.FederatedRead,
                context.CorrelationId(),
                RequestedNhsNumber(context),
                $"{context.Request.Method} {context.Request.Path}",
                status,
                message,
                []),
            context.RequestAborted);

        if (challenged)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }

        var code = challenged ? OperationOutcome.IssueType.Login : OperationOutcome.IssueType.Forbidden;
        await Outcomes.WriteAsync(context, status, Outcomes.Create(code, message, context.CorrelationId()));
    }

    /// <summary>The NHS number a refused GET asked for, when it is a valid one: auditors want to see who was looked for.</summary>
    private static string? RequestedNhsNumber(HttpContext context) =>
        context.Request.Query.TryGetValue("patientNHSNumber", out var value) && NhsNumber.Check(value.ToString()) is { IsValid: true } check
            ? check.Value
            : null;
}
