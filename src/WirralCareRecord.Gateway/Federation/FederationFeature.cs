using System.Net;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>Registers the federated read.</summary>
public static class FederationFeature
{
    public static IHostApplicationBuilder AddFederation(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<FederationOptions>(FederationOptions.SectionName);
        builder.Services.AddHttpClient(FhirSourceClient.HttpClientName, client =>
            {
                // Each source's own timeout is enforced by its resilience pipeline, over all its calls together.
                client.Timeout = Timeout.InfiniteTimeSpan;
                client.DefaultRequestVersion = HttpVersion.Version11;
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                MaxConnectionsPerServer = 64,
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
            });
        builder.Services.AddSingleton<FhirSourceClient>();
        builder.Services.AddSingleton<SourcePipelines>();
        builder.Services.AddSingleton<FederatedRecordService>();
        return builder;
    }
}
