using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using WirralCareRecord.Demo.Sources;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using Yarp.ReverseProxy.Configuration;

namespace WirralCareRecord.Benchmarks;

/// <summary>
/// The real gateway, composed as Program composes it (Development, so the development issuer signs tokens), on Kestrel at
/// 127.0.0.1, federating the given demo sources under one agreement, with its storage in a fresh temporary folder.
/// </summary>
internal sealed class BenchGateway : IAsyncDisposable
{
    public const string Consumer = "Y00001";
    public const string BarePrefix = "/bare";

    private readonly WebApplication _app;

    private BenchGateway(WebApplication app, string folder, string baseUrl)
    {
        _app = app;
        Folder = folder;
        BaseUrl = baseUrl;
    }

    public string Folder { get; }

    public string BaseUrl { get; }

    public IServiceProvider Services => _app.Services;

    /// <param name="bareUpstream">When given, adds a route <c>/bare/{**path}</c> straight to this base, with no sign-in, checks or audit: the benchmark's yardstick for the proxy's own cost.</param>
    public static async Task<BenchGateway> StartAsync(IReadOnlyList<(string Ods, DemoSourceServer Server)> sources, IDictionary<string, string?>? settings = null, Uri? bareUpstream = null)
    {
        var folder = Directory.CreateTempSubdirectory("wcr-bench-").FullName;
        var registryPath = Path.Combine(folder, "registry.json");
        await File.WriteAllTextAsync(registryPath, JsonSerializer.Serialize(Registry(sources), RegistryDocument.JsonOptions));

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Development, Args = [] });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var config = new Dictionary<string, string?>
        {
            ["Registry:SeedPath"] = registryPath,
            ["Registry:AllowHttpSources"] = "true",
            ["Storage:LocalFolder"] = Path.Combine(folder, "storage"),
            ["Audit:InstanceId"] = "bench",
            // The limits protect the record from trawling; a load test is one user trawling on purpose.
            ["RateLimits:PerUserPerMinute"] = "100000",
            ["RateLimits:PerOrganisationPerMinute"] = "1000000",
            ["Federation:SourceTimeout"] = "00:00:10",
            ["Federation:BreakerMinimumThroughput"] = "1000",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            config[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(config);
        builder.AddGateway();
        if (bareUpstream is not null)
        {
            // Benchmark host only: a second config provider beside the registry's, never in the product.
            builder.Services.AddSingleton<IProxyConfigProvider>(new BareRoute(bareUpstream));
        }

        var app = builder.Build();
        app.MapGateway();
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First().TrimEnd('/');
        return new BenchGateway(app, folder, url);
    }

    /// <summary>A client signed in as a clinician (or <paramref name="role"/>) of the consumer organisation, via /dev/token.</summary>
    public async Task<HttpClient> ClientAsync(string role = "Clinician", int maxConnections = 256)
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = maxConnections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            BaseAddress = new Uri(BaseUrl),
            Timeout = TimeSpan.FromSeconds(60),
        };
        var token = await client.GetStringAsync($"/dev/token?role={role}&ods={Consumer}&format=jwt");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static RegistryDocument Registry(IReadOnlyList<(string Ods, DemoSourceServer Server)> sources)
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var members = sources.Select(s => s.Ods).Append(Consumer).ToList();
        return new RegistryDocument
        {
            Organisations =
            [
                .. sources.Select(s => new RegistryDocument.OrganisationEntry
                {
                    OdsCode = s.Ods, Name = $"Bench source {s.Ods}", Kind = OrganisationKind.GpPractice, FhirBaseUrl = s.Server.BaseUrl.ToString(),
                    Phase = 1, State = LifecycleState.Live, StaffCount = 40,
                }),
                new RegistryDocument.OrganisationEntry
                {
                    OdsCode = Consumer, Name = "Bench consumer", Kind = OrganisationKind.AcuteTrust, FhirBaseUrl = "http://127.0.0.1:9/fhir",
                    Phase = 1, State = LifecycleState.Registered, StaffCount = 5000,
                },
            ],
            Agreements =
            [
                new RegistryDocument.AgreementEntry
                {
                    Id = "WCR-DSA-BENCH", Version = "1.0", Providers = members, Consumers = members, SignedBy = "IG lead",
                    SignedOn = today.AddDays(-400), EffectiveFrom = today.AddDays(-400), Expires = today.AddYears(1),
                },
            ],
        };
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still open; the OS cleans temp folders.
        }
    }

    /// <summary>One route with no metadata, so none of the gateway's checks, transforms or audit apply to it.</summary>
    private sealed class BareRoute(Uri upstream) : IProxyConfigProvider
    {
        private readonly Config _config = new(
            [new RouteConfig { RouteId = "bench-bare", ClusterId = "bench-bare", Match = new RouteMatch { Path = BarePrefix + "/{**path}" }, Transforms = [new Dictionary<string, string> { ["PathPattern"] = "/{**path}" }] }],
            [new ClusterConfig { ClusterId = "bench-bare", Destinations = new Dictionary<string, DestinationConfig> { ["upstream"] = new() { Address = upstream.ToString().TrimEnd('/') } } }]);

        public IProxyConfig GetConfig() => _config;

        private sealed class Config(IReadOnlyList<RouteConfig> routes, IReadOnlyList<ClusterConfig> clusters) : IProxyConfig
        {
            public IReadOnlyList<RouteConfig> Routes { get; } = routes;

            public IReadOnlyList<ClusterConfig> Clusters { get; } = clusters;

            public Microsoft.Extensions.Primitives.IChangeToken ChangeToken { get; } = new Microsoft.Extensions.Primitives.CancellationChangeToken(CancellationToken.None);
        }
    }
}
