using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Conformance;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Launch;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Pages;
using WirralCareRecord.Gateway.SourceProxy;
using WirralCareRecord.Gateway.Storage;
using WirralCareRecord.Gateway.Validation;

namespace WirralCareRecord.Gateway.Hosting;

/// <summary>
/// The table of contents of the gateway: every feature it is made of, in order. Program.cs and the demo host
/// both compose the gateway through here, so they never drift apart.
/// </summary>
public static class GatewayComposition
{
    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        builder.AddKeyVaultSecrets();
        builder.AddGatewayDefaults();
        builder.AddGatewayTelemetry();
        builder.AddGatewayAuthentication();
        builder.AddRecordRateLimits();
        builder.AddStorage();
        builder.AddRegistry();
        builder.AddAudit();
        builder.AddFederation();
        builder.AddSourceProxy();
        builder.AddConformance();
        builder.AddValidation();
        builder.AddGatewayHealth();
        builder.AddPages();
        builder.AddLaunch();
        return builder;
    }

    public static WebApplication MapGateway(this WebApplication app)
    {
        app.UseGatewayDefaults();
        if (app.Environment.IsDevelopment())
        {
            app.MapDevelopmentTokens();
        }

        app.MapGatewayHealth();
        app.MapConformance();
        app.MapValidation();
        app.MapFederation();
        app.MapAuditorEndpoints();
        app.MapOnboardingAdmin();
        app.MapSourceProxy();
        app.MapLaunch();
        app.MapPages();
        app.MapFhirFallback();
        return app;
    }
}
