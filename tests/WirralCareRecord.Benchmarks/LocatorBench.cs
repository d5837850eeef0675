using System.Collections.Concurrent;
using System.Diagnostics;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Http;
using WirralCareRecord.Demo.Population;
using WirralCareRecord.Demo.Sources;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Benchmarks;

/// <summary>
/// The record locator at scale (the performance issue): with 60 GP practices onboarded beside the acute and community
/// trusts, the first read of a patient asks everyone and the locator learns who holds them; a warm read then asks only
/// those and the trusts, so its cost follows the patient, not the number of practices. Measured in the harness: the
/// requests each source receives per warm read (counted on the gateway's own source clients), and the warm read's
/// latency with 60 practices against 10 in the same run.
/// </summary>
internal static class LocatorBench
{
    private const string HolderPractice = "N85001";
    private const string Acute = "RBL";
    private const string Community = "RY7";

    public static async Task<Dictionary<string, double>> RunAsync(BenchPlan plan, BenchResults results)
    {
        var person = SyntheticPopulation.People
            .Where(p => p.HardCase == DemoHardCase.None && p.RegisteredGpOdsCode == HolderPractice && p.IsHeldBy(HolderPractice) && p.IsHeldBy(Acute))
            .OrderByDescending(p => p.IsHeldBy(Community))
            .First();
        var holders = new[] { HolderPractice, Acute, Community }.Where(person.IsHeldBy).ToList();

        // One set of source servers behind both gateways: 60 practices (one holds the patient) and the two trusts. The
        // 10-practice gateway is onboarded with the holder and 9 of the others, so the two differ only in their registries.
        var servers = new List<(BenchSource Source, DemoSourceServer Server)>();
        try
        {
            servers.Add(await StartAsync(HolderPractice, OrganisationKind.GpPractice, [person]));
            for (var i = 1; i < 60; i++)
            {
                // A practice that does not hold the patient answers the Patient search with an empty searchset.
                servers.Add(await StartAsync($"N81{i:000}", OrganisationKind.GpPractice, [], serves: "N85002"));
            }

            servers.Add(await StartAsync(Acute, OrganisationKind.AcuteTrust, person.IsHeldBy(Acute) ? [person] : []));
            servers.Add(await StartAsync(Community, OrganisationKind.CommunityTrust, person.IsHeldBy(Community) ? [person] : []));
            var trusts = servers.Where(s => s.Source.Kind != OrganisationKind.GpPractice).ToList();
            var practices = servers.Where(s => s.Source.Kind == OrganisationKind.GpPractice).ToList();
            var sixty = await LocatorGateway.StartAsync([.. practices.Select(s => s.Source), .. trusts.Select(s => s.Source)]);
            await using var sixtyScope = sixty;
            var ten = await LocatorGateway.StartAsync([.. practices.Take(10).Select(s => s.Source), .. trusts.Select(s => s.Source)]);
            await using var tenScope = ten;
            var read = $"/fhir/Patient/$wcr-getrecord?patientNHSNumber={person.NhsNumber}";

            var firstSixty = await sixty.ReadAsync(read);
            var firstTen = await ten.ReadAsync(read);
            results.Log($"locator: first read (no locator entry, so a sweep) contacted {firstSixty.Contacted.Count} sources with 60 practices, {firstTen.Contacted.Count} with 10, in {firstSixty.Ms:0} ms and {firstTen.Ms:0} ms; the patient is held at {string.Join(", ", holders)}");
            if (firstSixty.Contacted.Count != 62 || firstTen.Contacted.Count != 12)
            {
                throw new InvalidOperationException($"The first read should sweep every source (62 and 12); it contacted {firstSixty.Contacted.Count} and {firstTen.Contacted.Count}.");
            }

            // Warm-up, then alternate blocks of reads between the two so the machine's noise falls on both alike.
            for (var i = 0; i < BenchPlan.FanoutWarmup; i++)
            {
                await sixty.ReadAsync(read);
                await ten.ReadAsync(read);
            }

            var check = ParseBundle(await sixty.Client.GetStringAsync(read));
            var returning = check.Entry.Select(e => e.Resource).OfType<Provenance>().Select(p => p.Agent.Single().Who.Identifier.Value).Order(StringComparer.Ordinal).ToList();
            if (!returning.SequenceEqual(holders.Order(StringComparer.Ordinal)))
            {
                throw new InvalidOperationException($"A warm read's record came from {string.Join(", ", returning)}, not from the holders {string.Join(", ", holders)}.");
            }

            await BenchGateway.WaitUntilQuietAsync();
            var warmSixty = new List<Read>();
            var warmTen = new List<Read>();
            const int block = 10;
            for (var done = 0; done < plan.FanoutReads; done += block)
            {
                for (var i = 0; i < block; i++)
                {
                    warmSixty.Add(await sixty.ReadAsync(read));
                }

                for (var i = 0; i < block; i++)
                {
                    warmTen.Add(await ten.ReadAsync(read));
                }
            }

            var contacted = Stats.Median(warmSixty.Select(r => (double)r.Contacted.Count));
            var contactedTen = Stats.Median(warmTen.Select(r => (double)r.Contacted.Count));
            var callsPerSource = Stats.Median(warmSixty.SelectMany(r => r.Contacted.Values).Select(c => (double)c));
            var asked = warmSixty.SelectMany(r => r.Contacted.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
            var (p50Sixty, p50Ten) = (Stats.Median(warmSixty.Select(r => r.Ms)), Stats.Median(warmTen.Select(r => r.Ms)));
            results.Log($"locator: warm reads contacted {contacted} sources (median; {string.Join(", ", asked)} over all {warmSixty.Count} reads) with 60 practices, {contactedTen} with 10; {callsPerSource} data request(s) per contacted source");
            results.Log($"locator: warm read p50 {p50Sixty:0.0} ms with 60 practices, {p50Ten:0.0} ms with 10 (ratio {p50Sixty / p50Ten:0.00}); p95 {Stats.Percentile(warmSixty.Select(r => r.Ms), 95):0.0} ms and {Stats.Percentile(warmTen.Select(r => r.Ms), 95):0.0} ms; sources answer after L = {Scenarios.L.TotalMilliseconds:0} ms");
            return new Dictionary<string, double>
            {
                ["sources_contacted_per_read"] = contacted,
                ["sources_contacted_per_read_10_practices"] = contactedTen,
                ["sources_contacted_first_read"] = firstSixty.Contacted.Count,
                ["locator_requests_per_contacted_source"] = callsPerSource,
                ["locator_p50_ratio_60_vs_10"] = p50Sixty / p50Ten,
                ["locator_warm_p50_ms_60"] = p50Sixty,
                ["locator_warm_p50_ms_10"] = p50Ten,
            };
        }
        finally
        {
            foreach (var (_, server) in servers)
            {
                await server.DisposeAsync();
            }
        }

        async Task<(BenchSource, DemoSourceServer)> StartAsync(string ods, OrganisationKind kind, IReadOnlyList<SyntheticPerson> people, string? serves = null)
        {
            var server = new DemoSourceServer(new DemoSourceOptions(serves ?? ods, $"Bench {ods}") { Latency = Scenarios.L, ReplayAnswers = true, OfferRevInclude = true, People = people });
            await server.StartAsync();
            return (new BenchSource(ods, server.BaseUrl, kind), server);
        }
    }

    private static Bundle ParseBundle(string json) => System.Text.Json.JsonSerializer.Deserialize<Bundle>(json, FhirJson.Lenient)!;

    /// <summary>One read: its latency, and the data requests (CapabilityStatement reads left out) it sent to each source.</summary>
    private sealed record Read(double Ms, Dictionary<string, int> Contacted);

    /// <summary>A benchmark gateway whose source clients count what they send.</summary>
    private sealed class LocatorGateway(BenchGateway gateway, HttpClient client, SourceRequestCounter counter) : IAsyncDisposable
    {
        public HttpClient Client => client;

        public static async Task<LocatorGateway> StartAsync(IReadOnlyList<BenchSource> sources)
        {
            var counter = new SourceRequestCounter();
            var gateway = await BenchGateway.StartAsync(sources, services: counter.Install);
            return new LocatorGateway(gateway, await gateway.ClientAsync(), counter);
        }

        public async Task<Read> ReadAsync(string path)
        {
            var before = counter.Snapshot();
            var started = Stopwatch.GetTimestamp();
            using var response = await client.GetAsync(path, HttpCompletionOption.ResponseContentRead);
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (!response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsStringAsync();
                throw new InvalidOperationException($"Locator read answered {(int)response.StatusCode}: {body[..Math.Min(400, body.Length)]}");
            }

            var after = counter.Snapshot();
            var contacted = after.Select(kv => (kv.Key, Calls: kv.Value - before.GetValueOrDefault(kv.Key))).Where(x => x.Calls > 0).ToDictionary(x => x.Key, x => x.Calls, StringComparer.Ordinal);
            return new Read(elapsed, contacted);
        }

        public async ValueTask DisposeAsync()
        {
            client.Dispose();
            await gateway.DisposeAsync();
        }
    }

    /// <summary>
    /// Counts the requests the gateway's per-source clients (<c>fhir-source:{ODS}</c>) send, by ODS code: a handler next to
    /// the socket handler, so retries count as what they are, more requests reaching the source.
    /// </summary>
    private sealed class SourceRequestCounter
    {
        private const string Prefix = "fhir-source:";
        private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);

        public void Install(IServiceCollection services) =>
            services.ConfigureAll<HttpClientFactoryOptions>(options => options.HttpMessageHandlerBuilderActions.Add(builder =>
            {
                if (builder.Name?.StartsWith(Prefix, StringComparison.Ordinal) == true)
                {
                    builder.AdditionalHandlers.Add(new Counting(this, builder.Name[Prefix.Length..]));
                }
            }));

        public Dictionary<string, int> Snapshot() => new(_calls, StringComparer.Ordinal);

        private sealed class Counting(SourceRequestCounter counter, string odsCode) : DelegatingHandler
        {
            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                if (request.RequestUri?.AbsolutePath.EndsWith("/metadata", StringComparison.Ordinal) != true)
                {
                    counter._calls.AddOrUpdate(odsCode, 1, (_, n) => n + 1);
                }

                return base.SendAsync(request, cancellationToken);
            }
        }
    }
}
