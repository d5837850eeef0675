using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.ApplicationModels;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.FileProviders;
using Microsoft.Identity.Web;
using WirralCareRecord.Gateway.Authentication;

namespace WirralCareRecord.Gateway.Pages;

/// <summary>
/// The web pages: the record view for clinicians, onboarding for onboarding staff and the audit dashboard for
/// auditors, server-rendered with the NHS design system. Pages sign in with a cookie (the development sign-in page in
/// Development, Entra ID through OpenID Connect elsewhere); the FHIR and admin APIs keep their bearer tokens and never
/// accept the cookie, so a browser session cannot be used to call them from another site.
/// </summary>
public static class PagesFeature
{
    /// <summary>The cookie that carries a page user's sign-in.</summary>
    public const string CookieScheme = CallerIdentity.PagesAuthenticationType;

    /// <summary>Entra ID sign-in for pages (OpenID Connect), outside Development.</summary>
    public const string OpenIdConnectScheme = "WcrPagesEntra";

    public const string SignInPath = "/signin";
    public const string AccessDeniedPath = "/access-denied";

    /// <summary>Any signed-in page user; every page but sign-in and access denied needs it.</summary>
    internal const string SignedIn = "PagesSignedIn";

    public static IHostApplicationBuilder AddPages(this IHostApplicationBuilder builder)
    {
        builder.Services.AddRazorPages(options =>
            {
                options.Conventions.AddFolderApplicationModelConvention("/", page => Require(page, SignedIn));
                options.Conventions.AddFolderApplicationModelConvention("/Record", page => Require(page, Policies.RecordViewer));
                options.Conventions.AddFolderApplicationModelConvention("/Onboarding", page => Require(page, Policies.Onboarding));
                options.Conventions.AddFolderApplicationModelConvention("/Auditing", page =>
                {
                    Require(page, Policies.Auditor);
                    page.Filters.Add(new Audit.AuditorPageAudit());
                });
                options.Conventions.AllowAnonymousToPage("/SignIn");
                options.Conventions.AllowAnonymousToPage("/AccessDenied");
                // A context launch's problem pages are shown before anyone is signed in.
                options.Conventions.AllowAnonymousToFolder("/Launch");
            })
            .ConfigureApplicationPartManager(parts =>
            {
                // Hosted by another entry assembly (the demo), the gateway's pages must still be found, once.
                var assembly = typeof(PagesFeature).Assembly;
                if (!parts.ApplicationParts.OfType<AssemblyPart>().Any(p => p.Assembly == assembly))
                {
                    foreach (var part in ApplicationPartFactory.GetApplicationPartFactory(assembly).GetApplicationParts(assembly))
                    {
                        parts.ApplicationParts.Add(part);
                    }
                }
            });

        builder.Services.AddScoped<Record.LetterReader>();
        var authentication = builder.Services.AddAuthentication();
        if (!builder.Environment.IsDevelopment() && AuthenticationFeature.EntraConfigured(builder.Configuration))
        {
            authentication.AddMicrosoftIdentityWebApp(
                identity => builder.Configuration.GetSection("AzureAd").Bind(identity),
                ConfigureCookie,
                OpenIdConnectScheme,
                CookieScheme);
            builder.Services.Configure<OpenIdConnectOptions>(OpenIdConnectScheme, oidc =>
            {
                // The same claim names as the API's tokens, so CallerIdentity reads a page user exactly as an API caller.
                oidc.MapInboundClaims = false;
                oidc.TokenValidationParameters.RoleClaimType = "roles";
                oidc.TokenValidationParameters.NameClaimType = "name";
            });
            builder.Services.Configure<CookieAuthenticationOptions>(CookieScheme, cookie => cookie.ForwardChallenge = OpenIdConnectScheme);
        }
        else
        {
            authentication.AddCookie(CookieScheme, ConfigureCookie);
        }

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(SignedIn, p => p.RequireAuthenticatedUser());

        // Refusals on pages redirect to sign-in or the access-denied page; the APIs keep their OperationOutcomes.
        builder.Services.TryAddSingleton<FhirAuthorizationResultHandler>();
        builder.Services.Replace(ServiceDescriptor.Singleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, PagesAuthorizationResultHandler>());
        return builder;
    }

    public static WebApplication MapPages(this WebApplication app)
    {
        // From the output folder rather than the content root, so the demo host and the tests serve the same files.
        var webRoot = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        if (Directory.Exists(webRoot))
        {
            app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(webRoot) });
        }

        app.MapRazorPages();
        return app;
    }

    private static void Require(PageApplicationModel page, string policy) =>
        page.EndpointMetadata.Add(new AuthorizeAttribute(policy) { AuthenticationSchemes = CookieScheme });

    private static void ConfigureCookie(CookieAuthenticationOptions cookie)
    {
        cookie.Cookie.Name = "wcr-pages";
        cookie.Cookie.HttpOnly = true;
        cookie.Cookie.SameSite = SameSiteMode.Lax;
        cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        cookie.LoginPath = SignInPath;
        cookie.LogoutPath = "/signout";
        cookie.AccessDeniedPath = AccessDeniedPath;
        // A shared-care record is often opened on shared workstations: a short idle timeout.
        cookie.ExpireTimeSpan = TimeSpan.FromMinutes(30);
        cookie.SlidingExpiration = true;
        var signingIn = cookie.Events.OnSigningIn;
        cookie.Events.OnSigningIn = async context =>
        {
            await signingIn(context);
            // The audit's channel comes from the identity's authentication type, which no token can set: a page
            // sign-in (development or Entra ID) is the gateway's pages unless the launch made it.
            if (context.Principal?.Identity is ClaimsIdentity identity && identity.AuthenticationType != CallerIdentity.ContextLaunchAuthenticationType)
            {
                context.Principal = new ClaimsPrincipal(new ClaimsIdentity(identity.Claims, CallerIdentity.PagesAuthenticationType, identity.NameClaimType, identity.RoleClaimType));
            }
        };
    }
}
