using System.Diagnostics;
using System.Globalization;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Storage;

namespace WirralCareRecord.Benchmarks;

/// <summary>
/// The story-once report over a year of roll-ups for a large ICS. Writing that many events through the log would take
/// hours here, so the generated accesses are folded into each day's roll-up with the gateway's own
/// <see cref="DayRollup.Add"/> and stored where the gateway keeps sealed days' roll-ups; the report is then asked for
/// over HTTP, as an auditor would, and timed. That is what the report reads for sealed days in production too. The
/// first (cold) call makes the sealed months' roll-ups from those days, as the gateway does the first time a report
/// asks for a month; it is timed and logged, but the figure is the median of the warm calls after it.
/// </summary>
internal static class ReportBench
{
    private const int Staff = 6000;
    private const int Patients = 350_000;

    public static async Task<Dictionary<string, double>> RunAsync(BenchPlan plan, BenchResults results)
    {
        await using var sources = await BenchSources.StartAsync(8, TimeSpan.Zero);
        await using var gateway = await BenchGateway.StartAsync(sources.Servers);
        var key = await gateway.Services.GetRequiredService<AuditPseudonyms>().KeyAsync(CancellationToken.None);
        var registry = gateway.Services.GetRequiredService<IOrganisationRegistry>().Current;
        var store = gateway.Services.GetRequiredService<IBlobStores>()[StorageContainer.Audit];
        var last = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-2);
        var first = last.AddDays(-364);
        var perDay = plan.ReportEvents / 365;
        var organisations = sources.Servers.Select(s => s.Ods).Append(BenchGateway.Consumer).ToArray();
        var users = Enumerable.Range(0, Staff).Select(i => "user-" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var nhs = Enumerable.Range(0, Patients).Select(i => (9_100_000_000L + i).ToString(CultureInfo.InvariantCulture)).ToArray();
        SourceFact Fact(int s, string outcome) => new(sources.Servers[s].Ods, outcome, OrganisationKind.GpPractice);
        IReadOnlyList<SourceFact>[] shapes =
        [
            [Fact(0, "returned"), Fact(1, "returned"), Fact(2, "no-match")],
            [Fact(3, "returned"), Fact(4, "no-match"), Fact(5, "timed-out")],
            [Fact(6, "returned"), Fact(7, "returned"), Fact(0, "returned")],
            [Fact(1, "no-match"), Fact(2, "no-match")],
        ];

        var generation = Stopwatch.StartNew();
        var days = Enumerable.Range(0, 365).Select(first.AddDays).ToList();
        await Parallel.ForEachAsync(days, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, async (day, ct) =>
        {
            var random = new Random(day.DayNumber);
            var rollup = new DayRollup(day, key.Id);
            var midnight = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            for (var i = 0; i < perDay; i++)
            {
                var roll = random.Next(100);
                var (status, request) = roll switch
                {
                    < 80 => (200, "GET /fhir/Patient/$wcr-getrecord"),
                    < 86 => (404, "GET /fhir/Patient/$wcr-getrecord"),
                    < 90 => (403, "GET /fhir/Patient/$wcr-getrecord"),
                    < 98 => (200, "GET /sources/S01/fhir/Condition"),
                    _ => (200, "PUT /admin/organisations/S01"),
                };
                var facts = new AuditFacts(
                    "e", midnight.AddSeconds(i % 86_400), request, status, AuditEvent.AuditEventOutcome.N0, users[random.Next(Staff)],
                    organisations[random.Next(organisations.Length)], nhs[random.Next(Patients)], roll == 0, shapes[random.Next(shapes.Length)]);
                rollup.Add(facts, key, ods => registry.Find(ods)?.Kind);
            }

            await store.WriteAsync(AuditBlobNames.Rollup(day), rollup.ToJson(), null, "application/json", ct);
        });
        var generated = generation.Elapsed;
        var events = perDay * 365L;
        results.Log($"report: folded {events:N0} generated events into 365 daily roll-ups in {generated.TotalSeconds:0.0} s");

        using var auditor = await gateway.ClientAsync(role: "Auditor");
        var url = $"/audit/$story-once-report?start={first:yyyy-MM-dd}&end={last:yyyy-MM-dd}&by=month";
        var timings = new List<double>();
        var cpu = new List<double>();
        var cold = 0.0;
        using var self = Process.GetCurrentProcess();
        for (var i = 0; i < 6; i++)
        {
            self.Refresh();
            var cpuBefore = self.TotalProcessorTime;
            var started = Stopwatch.GetTimestamp();
            using var response = await auditor.GetAsync(url);
            var body = await response.Content.ReadAsStringAsync();
            var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
            self.Refresh();
            if (!response.IsSuccessStatusCode || !body.Contains("MeasureReport", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"The report answered {(int)response.StatusCode}: {body[..Math.Min(400, body.Length)]}");
            }

            if (i > 0)
            {
                timings.Add(elapsed);
                cpu.Add((self.TotalProcessorTime - cpuBefore).TotalSeconds);
            }
            else
            {
                cold = elapsed;
            }
        }

        var seconds = Stats.Median(timings);
        results.Log($"report: first call (cold: reads 365 days, makes and stores the sealed months' roll-ups) {cold:0.000} s");
        results.Log($"report: a year by month over {events:N0} events from roll-ups: median {seconds:0.000} s (first call, cold, excluded; runs {string.Join(", ", timings.Select(t => t.ToString("0.000", CultureInfo.InvariantCulture)))})");
        // CPU time is what the report costs whoever else shares the cores (process-wide: GC and idle probes included).
        results.Log($"report: CPU time per warm call (all cores, whole process): median {Stats.Median(cpu):0.000} s");
        var (figures, output) = await PhasesAsync(gateway, first, last);
        results.Log($"report: where a warm call's time goes, in process: roll-ups read and united {figures:0.000} s, MeasureReport built and serialised {output:0.000} s; the rest of the median is HTTP");
        return new Dictionary<string, double>
        {
            ["report_10m_events_s"] = seconds,
            ["report_events"] = events,
            ["report_cold_s"] = cold,
            ["report_cpu_s"] = Stats.Median(cpu),
            ["report_rollup_generation_s"] = generated.TotalSeconds,
        };
    }

    /// <summary>The same report run inside the process, timed in its two halves (median of 3 each).</summary>
    private static async Task<(double Figures, double Output)> PhasesAsync(BenchGateway gateway, DateOnly first, DateOnly last)
    {
        var reports = gateway.Services.GetRequiredService<StoryOnceReports>();
        var figures = new List<double>();
        var output = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var report = await reports.RunAsync(first, last, ReportGrouping.Month, fromRawLog: false, CancellationToken.None);
            figures.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
            started = Stopwatch.GetTimestamp();
            _ = FhirJson.SerializeToUtf8(StoryOnceOutput.ToMeasureReport(report));
            output.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }

        return (Stats.Median(figures), Stats.Median(output));
    }
}
