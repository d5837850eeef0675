using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Identity.Web;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace WirralCareRecord.Gateway.Authentication;

/// <summary>
/// Sign-in: Microsoft Entra ID through Microsoft.Identity.Web (the <c>AzureAd</c> section), and in Development
/// only a local issuer. A policy scheme picks the handler by the token's issuer.
/// </summary>
public static class AuthenticationFeature
{
    /// <summary>The Microsoft.Identity.Web JWT bearer scheme.</summary>
    public const string EntraScheme = "Entra";

    private const string SelectorScheme = "Bearer";

    public static IHostApplicationBuilder AddGatewayAuthentication(this IHostApplicationBuilder builder)
    {
        var development = builder.Environment.IsDevelopment();
        builder.Services.AddOptions<GatewayAuthenticationOptions>()
            .BindConfiguration(GatewayAuthenticationOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        var authentication = builder.Services.AddAuthentication(o =>
        {
            o.DefaultScheme = SelectorScheme;
            o.DefaultChallengeScheme = SelectorScheme;
        });

        authentication.AddMicrosoftIdentityWebApi(
            jwt =>
            {
                // Keep Entra's claim names ("roles", "oid") as they are: the gateway reads them by those names.
                jwt.MapInboundClaims = false;
                jwt.TokenValidationParameters.RoleClaimType = "roles";
                jwt.TokenValidationParameters.NameClaimType = "name";
            },
            identity => builder.Configuration.GetSection("AzureAd").Bind(identity),
            EntraScheme);

        if (development)
        {
            builder.Services.AddSingleton<DevelopmentIssuer>();
            authentication.AddJwtBearer(DevelopmentIssuer.Scheme, _ => { });
            builder.Services.AddOptions<JwtBearerOptions>(DevelopmentIssuer.Scheme).Configure<DevelopmentIssuer>((jwt, issuer) =>
            {
                jwt.MapInboundClaims = false;
                jwt.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = DevelopmentIssuer.Issuer,
                    ValidAudience = issuer.Audience,
                    IssuerSigningKey = issuer.SigningKey,
                    RoleClaimType = "roles",
                    NameClaimType = "name",
                };
            });
        }

        authentication.AddPolicyScheme(SelectorScheme, "Entra ID, or the development issuer in Development", o =>
            o.ForwardDefaultSelector = context => development && IssuedByDevelopmentIssuer(context) ? DevelopmentIssuer.Scheme : EntraScheme);

        builder.Services.AddSingleton<IAuthorizationHandler, ActiveAgreementHandler>();
        builder.Services.AddSingleton<IAuthorizationHandler, GatewayRoleHandler>();
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, FhirAuthorizationResultHandler>();
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policies.RecordViewer, p => p
                .RequireAuthenticatedUser()
                .AddRequirements(new GatewayRoleRequirement(Roles.Clinician), new ActiveAgreementRequirement()));
        return builder;
    }

    private static bool IssuedByDevelopmentIssuer(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // Reading the issuer without validating only chooses which handler validates the token; it grants nothing.
        var handler = new JsonWebTokenHandler();
        var token = header["Bearer ".Length..].Trim();
        return handler.CanReadToken(token) && handler.ReadJsonWebToken(token).Issuer == DevelopmentIssuer.Issuer;
    }
}
