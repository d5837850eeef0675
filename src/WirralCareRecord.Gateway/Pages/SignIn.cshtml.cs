using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Authentication;

namespace WirralCareRecord.Gateway.Pages;

/// <summary>
/// Development: a list of demo users to sign in as. Elsewhere: straight on to Entra ID (OpenID Connect); the page
/// never signs anyone in outside Development.
/// </summary>
public sealed class SignInModel(IHostEnvironment environment, IOptions<GatewayAuthenticationOptions> options) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public IActionResult OnGet() =>
        environment.IsDevelopment()
            ? Page()
            : Challenge(new AuthenticationProperties { RedirectUri = LocalOrHome(ReturnUrl) }, PagesFeature.OpenIdConnectScheme);

    public async Task<IActionResult> OnPostAsync(string? userId)
    {
        if (!environment.IsDevelopment())
        {
            return NotFound();
        }

        if (DemoUsers.Find(userId) is not { } user)
        {
            return Page();
        }

        await HttpContext.SignInAsync(PagesFeature.CookieScheme, user.Principal(options.Value));
        return LocalRedirect(LocalOrHome(ReturnUrl));
    }

    private string LocalOrHome(string? url) => !string.IsNullOrEmpty(url) && Url.IsLocalUrl(url) ? url : "/";
}
