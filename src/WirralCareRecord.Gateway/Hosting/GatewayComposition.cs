using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Hosting;

/// <summary>
/// The table of contents of the gateway: every feature it is made of, in the order they are added.
/// Program.cs and the demo host both compose the gateway through here, so they never drift apart.
/// </summary>
public static class GatewayComposition
{
    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        builder.AddRegistry();
        return builder;
    }

    public static WebApplication MapGateway(this WebApplication app)
    {
        return app;
    }
}
