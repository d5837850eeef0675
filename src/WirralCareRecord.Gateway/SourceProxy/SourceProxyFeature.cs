using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace WirralCareRecord.Gateway.SourceProxy;

/// <summary>YARP as the front door for single-source reads, configured from the registry.</summary>
public static class SourceProxyFeature
{
    public static IHostApplicationBuilder AddSourceProxy(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IProxyConfigProvider, SourceRoutes>();
        builder.Services.AddSingleton<SourceObjectionCheck>();
        builder.Services.AddReverseProxy().AddTransforms<SourceResponseTransforms>();
        builder.Services.AddSingleton<IForwarderHttpClientFactory, SourceForwarderHttpClients>();
        return builder;
    }

    public static IEndpointRouteBuilder MapSourceProxy(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapReverseProxy(pipeline => pipeline.UseMiddleware<SourceAccessMiddleware>());
        return endpoints;
    }
}
