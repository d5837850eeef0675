using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.SourceAnswers;

namespace WirralCareRecord.Benchmarks;

/// <summary>
/// The merge measured on its own: the gateway's real <see cref="FhirSourceClient"/> (parse, match, filter) for three
/// sources and <see cref="RecordBundleBuilder"/> (addresses, Provenance, same-item links, written as bytes),
/// fed one demo source's recorded answers from memory; and, for the ratio, the Firely SDK parsing and serialising the
/// same bytes with the same settings.
/// </summary>
public sealed class MergeFixture : IAsyncDisposable
{
    // As the gateway's: its default budget, far above what one merge holds.
    private static readonly SourceBufferPool Buffers = new(Options.Create(new FederationOptions()), TimeProvider.System);
    private readonly BenchSources _sources;
    private readonly FhirSourceClient _client;
    private readonly List<SourceGrant> _grants;

    private MergeFixture(BenchSources sources, FhirSourceClient client, List<SourceGrant> grants, RecordingHandler recorded)
    {
        _sources = sources;
        _client = client;
        _grants = grants;
        Recorded = recorded;
    }

    private RecordingHandler Recorded { get; }

    /// <summary>One source's answers to one record fetch, as it sent them.</summary>
    public IReadOnlyList<byte[]> Bodies => [.. Recorded.Bodies.Values];

    public int ResourcesPerSource => _sources.ResourcesPerSource;

    public int MergedBytes { get; private set; }

    public static async Task<MergeFixture> StartAsync()
    {
        var sources = await BenchSources.StartAsync(1, TimeSpan.Zero);
        var recorded = new RecordingHandler();
        var client = new FhirSourceClient(new Factory(recorded), Options.Create(new FederationOptions()), Buffers, TimeProvider.System, NullLogger<FhirSourceClient>.Instance);
        var baseUrl = sources.Servers[0].Server.BaseUrl;
        var grants = Enumerable.Range(1, 3)
            .Select(i => new SourceGrant(new Organisation($"S0{i}", $"Source {i}", OrganisationKind.GpPractice, baseUrl, 1, LifecycleState.Live), new HashSet<string>(), ["WCR-DSA-BENCH"]))
            .ToList();
        var fixture = new MergeFixture(sources, client, grants, recorded);

        // Record the source's answers once, over the network; from then on every answer comes from memory.
        fixture.MergedBytes = await fixture.GatewayAsync();
        recorded.Replay = true;
        return fixture;
    }

    /// <summary>The gateway's work for one 3-source record; returns the merged Bundle's size.</summary>
    public async Task<int> GatewayAsync()
    {
        var answers = new List<SourceResult>(_grants.Count);
        foreach (var grant in _grants)
        {
            answers.Add(await _client.FetchRecordAsync(grant, _sources.Person.NhsNumber, FetchStrategy.RevInclude, "bench", new CallCounter(), CancellationToken.None));
        }

        if (answers.Any(a => a.Outcome != SourceOutcome.Returned))
        {
            throw new InvalidOperationException($"A recorded source did not return the record: {answers.First(a => a.Outcome != SourceOutcome.Returned).Detail}");
        }

        using var bundle = new PooledBufferWriter(Buffers);
        RecordBundleBuilder.Write(answers, "http://127.0.0.1:5080", "http://127.0.0.1:5080/fhir/Patient/$wcr-getrecord", DateTimeOffset.UtcNow, null, bundle);
        foreach (var answer in answers)
        {
            answer.Items.Dispose();
        }

        return (int)bundle.Length;
    }

    /// <summary>The SDK alone on the same bytes: every answer of every source parsed and serialised again.</summary>
    public int SdkOnly()
    {
        var bytes = 0;
        for (var s = 0; s < _grants.Count; s++)
        {
            foreach (var body in Recorded.Bodies.Values)
            {
                var resource = JsonSerializer.Deserialize<Resource>(body, FhirJson.Lenient)!;
                bytes += FhirJson.SerializeToUtf8(resource).Length;
            }
        }

        return bytes;
    }

    public async ValueTask DisposeAsync() => await _sources.DisposeAsync();

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
