using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using WirralCareRecord.Gateway.Authentication;

namespace WirralCareRecord.Gateway.Pages;

/// <summary>The 403 page: says which part of the service was refused and why, from the same policy that refused it.</summary>
public sealed class AccessDeniedModel(IAuthorizationService authorization) : PageModel
{
    public CallerIdentity? Caller { get; private set; }

    public string Reason { get; private set; } = "Your sign-in does not allow this page.";

    public async Task OnGetAsync(string? returnUrl)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        var signedIn = await HttpContext.AuthenticateAsync(PagesFeature.CookieScheme);
        if (signedIn.Principal is not { } user)
        {
            return;
        }

        HttpContext.User = user;
        Caller = PageCaller.Of(HttpContext);
        var path = returnUrl ?? "";
        var policy = path.StartsWith("/record", StringComparison.OrdinalIgnoreCase) ? Policies.RecordViewer
            : path.StartsWith("/onboarding", StringComparison.OrdinalIgnoreCase) ? Policies.Onboarding
            : path.StartsWith("/auditing", StringComparison.OrdinalIgnoreCase) ? Policies.Auditor
            : null;
        if (policy is not null && (await authorization.AuthorizeAsync(user, policy)).Failure is { } failure && failure.FailureReasons.Any())
        {
            Reason = string.Join(" ", failure.FailureReasons.Select(r => r.Message));
        }
    }
}
