using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace WirralCareRecord.Gateway.Pages;

/// <summary>Signing out is a POST (with the antiforgery token), so no link elsewhere can sign a user out.</summary>
public sealed class SignOutModel : PageModel
{
    public IActionResult OnGet() => Redirect("/");

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(PagesFeature.CookieScheme);
        return Redirect(PagesFeature.SignInPath);
    }
}
