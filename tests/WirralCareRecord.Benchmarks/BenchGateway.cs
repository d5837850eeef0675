using System.Diagnostics;
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

/// <summary>A source in the benchmark gateway's registry: a live member of the one agreement.</summary>
internal sealed record BenchSource(string Ods, Uri BaseUrl, OrganisationKind Kind = OrganisationKind.GpPractice);

/// <summary>
/// The real gateway, composed as Program composes it (Development, so the development issuer signs tokens), on Kestrel at
/// 127.0.0.1, federating the given sources (demo source servers or any FHIR base) under one agreement, with its storage in a fresh temporary folder.
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
    public static Task<BenchGateway> StartAsync(IReadOnlyList<(string Ods, DemoSourceServer Server)> sources, IDictionary<string, string?>? settings = null, Uri? bareUpstream = null) =>
        StartAsync([.. sources.Select(s => new BenchSource(s.Ods, s.Server.BaseUrl))], settings, bareUpstream);

    /// <summary>The gateway over sources that are not demo source servers (a raw FHIR endpoint the benchmark serves itself), all GP practices.</summary>
    public static Task<BenchGateway> StartAsync(IReadOnlyList<(string Ods, Uri BaseUrl)> sources, IDictionary<string, string?>? settings = null) =>
        StartAsync([.. sources.Select(s => new BenchSource(s.Ods, s.BaseUrl))], settings);

    /// <param name="services">Benchmark-only additions to the gateway's services (a counting handler on its source clients, say).</param>
    public static async Task<BenchGateway> StartAsync(IReadOnlyList<BenchSource> sources, IDictionary<string, string?>? settings = null, Uri? bareUpstream = null, Action<IServiceCollection>? services = null)
    {
        var folder = Directory.CreateTempSubdirectory("wcr-bench-").FullName;
        var registryPath = Path.Combine(folder, "registry.json");
        await File.WriteAllTextAsync(registryPath, JsonSerializer.Serialize(Registry(sources), RegistryDocument.JsonOptions));

        // Content root at the binaries, with no reload-on-change: file watchers over whatever folder the harness was
        // started in (a repository being built, say) would spend the process's CPU on events from elsewhere.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = Environments.Development,
            ContentRootPath = AppContext.BaseDirectory,
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var config = new Dictionary<string, string?>
        {
            ["Registry:SeedPath"] = registryPath,
            ["Registry:AllowHttpSources"] = "true",
            ["Storage:LocalFolder"] = Path.Combine(folder, "storage"),
            ["Audit:InstanceId"] = "bench",
            // The limits protect the record from trawling; a load test is one user trawling on purpose.
            // Far above what 64 clients reach: a faster route read ran into 100,000 a minute in the full run's proxy rounds.
            ["RateLimits:PerUserPerMinute"] = "10000000",
            ["RateLimits:PerOrganisationPerMinute"] = "10000000",
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

        services?.Invoke(builder.Services);

        var app = builder.Build();
        app.MapGateway();
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First().TrimEnd('/');
        await WaitUntilReadyAsync(url);
        await WaitUntilQuietAsync();
        return new BenchGateway(app, folder, url);
    }

    /// <summary>
    /// Readiness includes the profiles, whose snapshots are built in the background at start-up (seconds of CPU): a
    /// measurement started before then would count that work against the first reads.
    /// </summary>
    private static async Task WaitUntilReadyAsync(string url)
    {
        using var probe = new HttpClient { BaseAddress = new Uri(url) };
        for (var attempt = 0; attempt < 600; attempt++)
        {
            using var response = await probe.GetAsync("/health/ready");
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException("The benchmark gateway did not become ready within a minute.");
    }

    /// <summary>
    /// After readiness the runtime goes on compiling hot code at its higher tier and the profiles finish warming, for
    /// tens of seconds of CPU on 2 cores; waits until the process uses under a tenth of a core for a whole second (at
    /// most two minutes), so that start-up work is not measured as the reads'.
    /// </summary>
    public static async Task WaitUntilQuietAsync()
    {
        using var self = Process.GetCurrentProcess();
        await WaitUntilQuietAsync(self);
    }

    /// <summary>
    /// The same rule on another process: a gateway started out of process is quiet when its own CPU is, whatever the
    /// sources and load driver in this one are doing.
    /// </summary>
    public static async Task WaitUntilQuietAsync(Process process)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromMinutes(2))
        {
            process.Refresh();
            var before = process.TotalProcessorTime;
            await Task.Delay(1000);
            process.Refresh();
            if ((process.TotalProcessorTime - before).TotalMilliseconds < 100)
            {
                return;
            }
        }
    }

    /// <summary>A client signed in as a clinician (or <paramref name="role"/>) of the consumer organisation, via /dev/token.</summary>
    public Task<HttpClient> ClientAsync(string role = "Clinician", int maxConnections = 256) => SignedInClientAsync(BaseUrl, role, maxConnections);

    /// <summary>A client of the gateway at <paramref name="baseUrl"/>, in this process or another, signed in as <paramref name="role"/> of the consumer organisation.</summary>
    public static async Task<HttpClient> SignedInClientAsync(string baseUrl, string role, int maxConnections)
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = maxConnections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            BaseAddress = new Uri(baseUrl),
            Timeout = TimeSpan.FromSeconds(60),
        };
        var token = await client.GetStringAsync($"/dev/token?role={role}&ods={Consumer}&format=jwt");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static RegistryDocument Registry(IReadOnlyList<BenchSource> sources)
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var members = sources.Select(s => s.Ods).Append(Consumer).ToList();
        return new RegistryDocument
        {
            Organisations =
            [
                .. sources.Select(s => new RegistryDocument.OrganisationEntry
                {
                    OdsCode = s.Ods, Name = $"Bench source {s.Ods}", Kind = s.Kind, FhirBaseUrl = s.BaseUrl.ToString(),
                    Phase = 1, State = LifecycleState.Live, StaffCount = 40,
                }),
                new RegistryDocument.OrganisationEntry
                {
                    OdsCode = Consumer, Name = "Bench consumer", Kind = OrganisationKind.AcuteTrust, FhirBaseUrl = "http://127.0.0.1:9/fhir",
                    Phase = 1, State = LifecycleState.AgreementSigned, StaffCount = 5000,
                },
            ],
            Agreements =
            [
                new RegistryDocument.AgreementEntry
                {
                    Id = "WCR-DSA-BENCH", Version = "1.0", Providers = members, Consumers = members, SignedBy = "IG lead",
                    SignedOn = today.AddDays(-400), EffectiveFrom = today.AddDays(-400), Expires = today.AddYears(1),
                    Document = new WirralCareRecord.Gateway.Agreements.AgreementDocument(
                        "WCR-DSA-BENCH/v1.0/signed.pdf", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("signed"u8)), 1024, "application/pdf", DateTimeOffset.UtcNow, "bench"),
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
