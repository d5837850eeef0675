using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Launch;

/// <summary>
/// SMART App Launch (EHR launch) from clinicians' own record systems: <c>GET /launch</c> and its callback. The
/// problem pages are Razor pages under <c>Pages/Launch</c>; the launched record opens on <c>/record</c>.
/// </summary>
public static class LaunchFeature
{
    public static IHostApplicationBuilder AddLaunch(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<LaunchOptions>(LaunchOptions.SectionName);
        builder.Services.AddHttpClient(SmartLaunch.HttpClientName, (services, client) =>
        {
            client.Timeout = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<LaunchOptions>>().Value.Timeout;
        }).ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        builder.Services.AddScoped<SmartLaunch>();
        return builder;
    }

    public static IEndpointRouteBuilder MapLaunch(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(SmartLaunch.LaunchPath, (HttpContext context, SmartLaunch smart, string? iss, string? launch) => smart.StartAsync(context, iss, launch))
            .AllowAnonymous()
            .ExcludeFromDescription();
        endpoints.MapGet(SmartLaunch.CallbackPath, (HttpContext context, SmartLaunch smart, string? code, string? state, string? error) => smart.CompleteAsync(context, code, state, error))
            .AllowAnonymous()
            .ExcludeFromDescription();
        return endpoints;
    }
}
