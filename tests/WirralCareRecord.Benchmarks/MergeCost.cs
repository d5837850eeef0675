using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Benchmarks;

/// <summary>
/// CPU time of the gateway's own work on a 3-source record (parse, match, filter, merge, serialise; its real
/// <see cref="FhirSourceClient"/> and <see cref="RecordBundleBuilder"/>, fed the sources' recorded answers from memory)
/// against only parsing and serialising the same bytes with the Firely SDK. Same process, one thread, nothing else
/// running; alternating rounds, median of the per-round ratios.
/// </summary>
internal static class MergeCost
{
    public static async Task<Dictionary<string, double>> RunAsync(BenchPlan plan, BenchResults results)
    {
        await using var sources = await BenchSources.StartAsync(1, TimeSpan.Zero);
        var recorded = new RecordingHandler();
        var factory = new Factory(recorded);
        var client = new FhirSourceClient(factory, Options.Create(new FederationOptions()), TimeProvider.System, NullLogger<FhirSourceClient>.Instance);
        var baseUrl = sources.Servers[0].Server.BaseUrl;
        var grants = Enumerable.Range(1, 3)
            .Select(i => new SourceGrant(new Organisation($"S0{i}", $"Source {i}", OrganisationKind.GpPractice, baseUrl, 1, LifecycleState.Live), new HashSet<string>(), ["WCR-DSA-BENCH"]))
            .ToList();

        async Task<int> Gateway()
        {
            var answers = new List<SourceResult>();
            foreach (var grant in grants)
            {
                answers.Add(await client.FetchRecordAsync(grant, sources.Person.NhsNumber, FetchStrategy.PerType, "bench", new CallCounter(), CancellationToken.None));
            }

            var bundle = RecordBundleBuilder.Build(answers, "http://127.0.0.1:5080", "http://127.0.0.1:5080/fhir/Patient/$wcr-getrecord", DateTimeOffset.UtcNow);
            return FhirJson.SerializeToUtf8(bundle).Length;
        }

        // Record the source's answers once, over the network; from then on every answer comes from memory.
        var first = await Gateway();
        recorded.Replay = true;
        var bodies = recorded.Bodies.Values.ToList();

        Task<int> SdkOnly()
        {
            var bytes = 0;
            for (var s = 0; s < grants.Count; s++)
            {
                foreach (var body in bodies)
                {
                    var resource = JsonSerializer.Deserialize<Resource>(body, FhirJson.Lenient)!;
                    bytes += FhirJson.SerializeToUtf8(resource).Length;
                }
            }

            return System.Threading.Tasks.Task.FromResult(bytes);
        }

        var iterations = plan.Quick ? 40 : 150;
        for (var i = 0; i < 20; i++)
        {
            await Gateway();
            await SdkOnly();
        }

        var ratios = new List<double>();
        var gatewayMs = new List<double>();
        var sdkMs = new List<double>();
        for (var round = 0; round < (plan.Quick ? 5 : 9); round++)
        {
            var g = await CpuAsync(Gateway, iterations);
            var s = await CpuAsync(SdkOnly, iterations);
            ratios.Add(g / s);
            gatewayMs.Add(g);
            sdkMs.Add(s);
        }

        var resources = await RecordedResources(bodies);
        results.Log($"merge cost: gateway {Stats.Median(gatewayMs):0.00} ms CPU per 3-source record, SDK parse+serialise {Stats.Median(sdkMs):0.00} ms; ratio {Stats.Median(ratios):0.00} (rounds: {string.Join(", ", ratios.Select(r => r.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)))}); {bodies.Count} answers per source, {resources} resources per source, merged bundle {first / 1024} KB");
        return new Dictionary<string, double>
        {
            ["merge_cpu_ratio"] = Stats.Median(ratios),
            ["merge_cpu_ms_per_record"] = Stats.Median(gatewayMs),
            ["parse_serialise_cpu_ms_per_record"] = Stats.Median(sdkMs),
        };
    }

    private static Task<int> RecordedResources(List<byte[]> bodies) => System.Threading.Tasks.Task.FromResult(bodies
        .Select(b => JsonSerializer.Deserialize<Resource>(b, FhirJson.Lenient))
        .OfType<Bundle>()
        .Sum(b => b.Entry.Count));

    /// <summary>Process CPU time per call in ms (all threads, so the GC's work counts too), over <paramref name="iterations"/> calls.</summary>
    private static async Task<double> CpuAsync(Func<Task<int>> work, int iterations)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var before = process.TotalProcessorTime;
        for (var i = 0; i < iterations; i++)
        {
            await work();
        }

        process.Refresh();
        return (process.TotalProcessorTime - before).TotalMilliseconds / iterations;
    }

    private sealed class Factory(HttpMessageHandler handler) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new(handler, disposeHandler: false);
    }

    /// <summary>Passes requests to the source and keeps each answer; once replaying, answers from what it kept.</summary>
    private sealed class RecordingHandler() : DelegatingHandler(new SocketsHttpHandler())
    {
        public ConcurrentDictionary<string, byte[]> Bodies { get; } = new(StringComparer.Ordinal);

        public bool Replay { get; set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var key = request.RequestUri!.ToString();
            if (!Replay)
            {
                using var live = await base.SendAsync(request, cancellationToken);
                Bodies[key] = await live.Content.ReadAsByteArrayAsync(cancellationToken);
            }

            var content = new ByteArrayContent(Bodies[key]);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/fhir+json");
            return new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = content, RequestMessage = request };
        }
    }
}
