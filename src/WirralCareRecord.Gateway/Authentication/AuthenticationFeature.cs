using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Microsoft.Identity.Web;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using WirralCareRecord.Gateway.Hosting;

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
        builder.Services.AddValidatedOptions<GatewayAuthenticationOptions>(GatewayAuthenticationOptions.SectionName);

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

        // Entra access tokens for this API carry its client id or its Application ID URI as audience; unless
        // AzureAd:Audience says otherwise, accept exactly those.
        builder.Services.AddOptions<JwtBearerOptions>(EntraScheme).PostConfigure<IConfiguration>((jwt, configuration) =>
        {
            var section = configuration.GetSection("AzureAd");
            if (string.IsNullOrEmpty(jwt.TokenValidationParameters.ValidAudience) && !(jwt.TokenValidationParameters.ValidAudiences?.Any() ?? false))
            {
                jwt.TokenValidationParameters.ValidAudiences = section["Audience"] is { Length: > 0 } audience
                    ? [audience]
                    : [section["ClientId"] ?? "", $"api://{section["ClientId"]}"];
            }
        });

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

        // Both schemes remember the tokens they have validated (RememberingTokenHandler): one sent again is not checked
        // again until five minutes pass or it expires, whichever comes first.
        foreach (var scheme in development ? new[] { EntraScheme, DevelopmentIssuer.Scheme } : [EntraScheme])
        {
            builder.Services.AddOptions<JwtBearerOptions>(scheme).PostConfigure<TimeProvider>((jwt, time) =>
            {
                var handler = new RememberingTokenHandler(time) { MapInboundClaims = jwt.MapInboundClaims };
                jwt.TokenHandlers.Clear();
                jwt.TokenHandlers.Add(handler);
            });
        }

        authentication.AddPolicyScheme(SelectorScheme, "Entra ID, or the development issuer in Development", o =>
            o.ForwardDefaultSelector = context => development && (IssuedByDevelopmentIssuer(context) || !EntraConfigured(context.RequestServices.GetRequiredService<IConfiguration>()))
                ? DevelopmentIssuer.Scheme
                : EntraScheme);
        builder.Services.AddSingleton<IValidateOptions<GatewayAuthenticationOptions>, EntraConfigurationValidator>();

        builder.Services.AddSingleton<IAuthorizationHandler, ActiveAgreementHandler>();
        builder.Services.AddSingleton<IAuthorizationHandler, GatewayRoleHandler>();
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, FhirAuthorizationResultHandler>();
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policies.RecordViewer, p => p
                .RequireAuthenticatedUser()
                .AddRequirements(new GatewayRoleRequirement(Roles.Clinician), new ActiveAgreementRequirement()))
            .AddPolicy(Policies.Operations, p => p
                .RequireAuthenticatedUser()
                .AddRequirements(new GatewayRoleRequirement(Roles.Operator, Roles.OnboardingAdmin)))
            .AddPolicy(Policies.Onboarding, p => p
                .RequireAuthenticatedUser()
                .AddRequirements(new GatewayRoleRequirement(Roles.OnboardingAdmin)))
            .AddPolicy(Policies.Auditor, p => p
                .RequireAuthenticatedUser()
                .AddRequirements(new GatewayRoleRequirement(Roles.Auditor)));
        return builder;
    }

    /// <summary>Whether the AzureAd section names an app registration; the development issuer stands in when it does not.</summary>
    internal static bool EntraConfigured(IConfiguration configuration) => !string.IsNullOrWhiteSpace(configuration["AzureAd:ClientId"]);

    private static bool IssuedByDevelopmentIssuer(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // Reading the issuer without validating only chooses which handler validates the token; it grants nothing.
        // CanReadToken checks only the shape (three dot-separated parts): "abc.def.ghi" passes it and then fails to
        // decode. Such a token goes to the Entra handler, which refuses it with 401 like any other bad token.
        var token = header["Bearer ".Length..].Trim();
        if (IssuerChoices.TryGetValue(token, out var known))
        {
            return known;
        }

        var handler = new JsonWebTokenHandler();
        bool development;
        try
        {
            development = handler.CanReadToken(token) && handler.ReadJsonWebToken(token).Issuer == DevelopmentIssuer.Issuer;
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenException or FormatException or System.Text.Json.JsonException)
        {
            development = false;
        }

        // A client sends the same token for an hour: its issuer is read once, not on every request before the handler
        // reads it again. The choice grants nothing (the chosen handler validates), so a bounded cache is enough.
        if (IssuerChoices.Count >= 4096)
        {
            IssuerChoices.Clear();
        }

        IssuerChoices[token] = development;
        return development;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> IssuerChoices = new(StringComparer.Ordinal);
}

/// <summary>Outside Development the gateway has no way to sign anyone in without Entra ID, so it refuses to start.</summary>
internal sealed class EntraConfigurationValidator(IHostEnvironment environment, IConfiguration configuration) : IValidateOptions<GatewayAuthenticationOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayAuthenticationOptions options) =>
        environment.IsDevelopment() || AuthenticationFeature.EntraConfigured(configuration)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("AzureAd:ClientId (and AzureAd:Instance, AzureAd:TenantId) must name the gateway's Entra ID app registration outside Development.");
}
