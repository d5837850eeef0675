using System.Diagnostics;
using System.Net;
using System.Runtime;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Benchmarks;

/// <summary>
/// The source route's memory under large source answers (the safety issue's "four parallel 40 MB answers on the route
/// leave the gateway's working set within 100 MB of where it started"). A raw source streams a 40 MB Condition
/// searchset, which the gateway must refuse at its cap (<c>Federation:MaxSourceResponseBytes</c>, 32 MB by default),
/// and a 30 MB one, which it must read whole, filter and pass on. The working set is the whole process's: source and
/// client live in it too, so both are kept lean (the source repeats one buffer; the client discards as it reads).
/// </summary>
internal static class RouteMemory
{
    public const double GrowthLimitMb = 100;
    private const string OverCap = "big40";
    private const string UnderCap = "big30";
    private const int Parallel = 4;
    private const long MiB = 1024 * 1024;

    public static async Task<Dictionary<string, double>> RunAsync(BenchPlan plan, BenchResults results)
    {
        results.Log($"route memory: server GC {GCSettings.IsServerGC}, latency mode {GCSettings.LatencyMode}, {GcConfiguration()}");
        await using var source = await LargeAnswerSource.StartAsync(new Dictionary<string, long> { [OverCap] = 40 * MiB, [UnderCap] = 30 * MiB });
        // Generous timeouts: four 30 MB answers parsed at once on two shared cores must not turn into 504s.
        await using var gateway = await BenchGateway.StartAsync(
            [(OverCap.ToUpperInvariant(), source.BaseOf(OverCap)), (UnderCap.ToUpperInvariant(), source.BaseOf(UnderCap))],
            new Dictionary<string, string?> { ["Federation:SourceTimeout"] = "00:01:00" });
        using var client = await gateway.ClientAsync();
        var cap = gateway.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Gateway.Federation.FederationOptions>>().Value.MaxSourceResponseBytes;
        results.Log($"route memory: cap {cap / (double)MiB:0.#} MB; answers {string.Join(", ", source.AnswerBytes.Select(a => $"{a.Key} {a.Value / (double)MiB:0.0} MB"))}, streamed chunked");

        // Warm: the patient checks (kept a minute by the gate) and the search path, on answers of a few KB.
        foreach (var ods in new[] { OverCap, UnderCap })
        {
            await ExpectAsync(client, $"/sources/{ods.ToUpperInvariant()}/fhir/Patient/{LargeAnswerSource.PatientId}", HttpStatusCode.OK);
            await ExpectAsync(client, $"/sources/{ods.ToUpperInvariant()}/fhir/Encounter?patient={LargeAnswerSource.PatientId}", HttpStatusCode.OK);
        }

        await BenchGateway.WaitUntilQuietAsync();
        FullCollection();
        var baseline = Snapshot();
        results.Log($"route memory: baseline after a full blocking GC: {baseline}");

        var rounds = plan.Quick ? 3 : 5;
        var over = await PhaseAsync(OverCap, HttpStatusCode.BadGateway);
        var under = await PhaseAsync(UnderCap, HttpStatusCode.OK);
        var overGrowth = over.AfterIdle.WorkingSetMb - baseline.WorkingSetMb;
        results.Log($"route memory: the issue's measure, {Parallel} parallel 40 MB answers: working set {baseline.WorkingSetMb:0} MB → peak {over.PeakMb:0} MB → {over.AfterIdle.WorkingSetMb:0} MB after 3 s idle, growth {overGrowth:0} MB against a limit of {GrowthLimitMb:0} MB: {(overGrowth <= GrowthLimitMb ? "within" : "OVER")}");

        // Where the bytes go: one read of each answer alone, after everything above, so the sampling costs nothing measured.
        var (overAllocated, _) = await AllocatedAsync(OverCap, HttpStatusCode.BadGateway, top: 0);
        var (underAllocated, byType) = await AllocatedAsync(UnderCap, HttpStatusCode.OK, top: 8);
        results.Log($"route memory: one read alone allocates {overAllocated:0} MB (40 MB answer, refused) and {underAllocated:0} MB (30 MB answer, passed on), whole process; the 30 MB read by type (sampled): {byType}");
        return new Dictionary<string, double>
        {
            ["route_large_answer_ws_baseline_mb"] = baseline.WorkingSetMb,
            ["route_large_answer_ws_peak_mb"] = over.PeakMb,
            ["route_large_answer_ws_growth_after_idle_mb"] = overGrowth,
            ["route_large_answer_ws_growth_after_gc_mb"] = over.AfterGc.WorkingSetMb - baseline.WorkingSetMb,
            ["route_large_answer_ws_growth_limit_mb"] = GrowthLimitMb,
            ["route_large_answer_managed_growth_after_idle_mb"] = over.AfterIdle.ManagedMb - baseline.ManagedMb,
            ["route_large_answer_under_cap_ws_peak_mb"] = under.PeakMb,
            ["route_large_answer_under_cap_ws_growth_after_idle_mb"] = under.AfterIdle.WorkingSetMb - baseline.WorkingSetMb,
            ["route_large_answer_under_cap_ws_growth_after_gc_mb"] = under.AfterGc.WorkingSetMb - baseline.WorkingSetMb,
            ["route_large_answer_under_cap_managed_growth_after_idle_mb"] = under.AfterIdle.ManagedMb - baseline.ManagedMb,
            ["route_large_answer_allocated_mb_per_read_over_cap"] = overAllocated,
            ["route_large_answer_allocated_mb_per_read_under_cap"] = underAllocated,
            ["route_large_answer_server_gc"] = GCSettings.IsServerGC ? 1 : 0,
            ["route_large_answer_busy_reads_over_cap"] = over.Busy,
            ["route_large_answer_busy_reads_under_cap"] = under.Busy,
        };

        // Rounds of four parallel reads of one answer with the working set sampled every 50 ms; then, as a running
        // gateway would be a few seconds after the burst, with nobody forcing a collection; then after a forced one.
        async Task<PhaseResult> PhaseAsync(string ods, HttpStatusCode expected)
        {
            var collections = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
            using var self = Process.GetCurrentProcess();
            var peak = 0.0;
            var busy = 0;
            using var stop = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    self.Refresh();
                    peak = Math.Max(peak, self.WorkingSet64 / (double)MiB);
                    await Task.Delay(50, CancellationToken.None);
                }
            });
            for (var round = 0; round < rounds; round++)
            {
                var clock = Stopwatch.StartNew();
                // Four answers near the cap at once are more than the gateway's byte budget holds (64 MB by default):
                // those that find it full are told the gateway is busy (503), which is the budget bounding the memory.
                var answers = await Task.WhenAll(Enumerable.Range(0, Parallel).Select(_ => ExpectAsync(client, Conditions(ods), expected, busyAllowed: true)));
                var served = answers.Where(a => a.Status == expected).Select(a => a.Length).ToList();
                if (expected == HttpStatusCode.OK && served.Any(b => b < source.AnswerBytes[ods] / 2))
                {
                    throw new InvalidOperationException($"The route passed on {served.Min()} bytes of a {source.AnswerBytes[ods]}-byte answer of this patient's own items: the entries were withheld, so nothing was measured.");
                }

                busy += Parallel - served.Count;
                results.Log($"route memory: {ods} round {round + 1}: {served.Count} × {(int)expected}, {Parallel - served.Count} × 503 (busy) in {clock.Elapsed.TotalSeconds:0.0} s, {served.DefaultIfEmpty(0).Average() / MiB:0.0} MB to the caller each");
            }

            await stop.CancelAsync();
            await sampler;
            var during = $"{GC.CollectionCount(0) - collections.Item1} gen0, {GC.CollectionCount(1) - collections.Item2} gen1, {GC.CollectionCount(2) - collections.Item3} gen2 collections during the reads";
            await Task.Delay(TimeSpan.FromSeconds(3));
            var afterIdle = Snapshot();
            // Longer, for whether the runtime hands memory back by itself given time (it decommits as it collects).
            await Task.Delay(TimeSpan.FromSeconds(7));
            var afterLongIdle = Snapshot();
            FullCollection();
            var afterGc = Snapshot();
            results.Log($"route memory: {ods}: peak working set {peak:0} MB; {during}; {busy} of {rounds * Parallel} reads answered busy");
            results.Log($"route memory: {ods}: after 3 s idle, no forced GC: {afterIdle}; after 10 s: {afterLongIdle}");
            results.Log($"route memory: {ods}: after a forced full GC: {afterGc}");
            return new PhaseResult(peak, afterIdle, afterGc, busy);
        }

        // Bytes allocated by one read (the whole process, so source and client too, both small), and the largest types
        // as the runtime's allocation sampling sees them (one event per about 100 KB allocated).
        async Task<(double Mb, string ByType)> AllocatedAsync(string ods, HttpStatusCode expected, int top)
        {
            using var sampling = top > 0 ? new AllocationSampling() : null;
            var before = GC.GetTotalAllocatedBytes(precise: true);
            await ExpectAsync(client, Conditions(ods), expected);
            var mb = (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)MiB;
            return (mb, sampling?.Top(top) ?? "");
        }
    }

    private static string Conditions(string ods) => $"/sources/{ods.ToUpperInvariant()}/fhir/Condition?patient={LargeAnswerSource.PatientId}";

    /// <summary>
    /// One request, its status checked (and, for a refusal, that it is an OperationOutcome); the body read as a stream and
    /// dropped, so the client holds one small buffer whatever the answer's size. Returns the body's length.
    /// </summary>
    private static async Task<long> ExpectAsync(HttpClient client, string path, HttpStatusCode expected) =>
        (await ExpectAsync(client, path, expected, busyAllowed: false)).Length;

    /// <param name="busyAllowed">Whether 503 with Retry-After and an OperationOutcome (the gateway's byte budget full) is an answer too.</param>
    private static async Task<(HttpStatusCode Status, long Length)> ExpectAsync(HttpClient client, string path, HttpStatusCode expected, bool busyAllowed)
    {
        using var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var text = await response.Content.ReadAsStringAsync();
            var outcome = text.Length > 0 ? System.Text.Json.JsonSerializer.Deserialize<Resource>(text, FhirJson.Lenient) as OperationOutcome : null;
            var busy = busyAllowed && response.StatusCode == HttpStatusCode.ServiceUnavailable && response.Headers.RetryAfter is not null;
            if ((response.StatusCode != expected && !busy) || outcome is null)
            {
                throw new InvalidOperationException($"GET {path} answered {(int)response.StatusCode} ({text[..Math.Min(300, text.Length)]}), not {(int)expected} with an OperationOutcome.");
            }

            return (response.StatusCode, text.Length);
        }

        if (expected != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"GET {path} answered 200, not {(int)expected}: the gateway passed on an answer over its cap.");
        }

        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            long total = 0;
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                total += read;
            }

            return (response.StatusCode, total);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void FullCollection()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    private static MemorySnapshot Snapshot()
    {
        using var self = Process.GetCurrentProcess();
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        return new MemorySnapshot(self.WorkingSet64 / (double)MiB, GC.GetTotalMemory(false) / (double)MiB, info.GenerationInfo[3].SizeAfterBytes / (double)MiB, info.TotalCommittedBytes / (double)MiB);
    }

    /// <summary>
    /// The GC settings that decide how soon freed memory leaves the working set. DATAS (dynamic adaptation to application
    /// sizes) is on by default with server GC since .NET 9 unless <c>GCDynamicAdaptationMode</c> is 0.
    /// </summary>
    private static string GcConfiguration()
    {
        var variables = GC.GetConfigurationVariables();
        string Of(string name) => variables.TryGetValue(name, out var value) ? Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "" : "unset";
        var hardLimit = AppContext.GetData("GCHeapHardLimit") ?? Environment.GetEnvironmentVariable("DOTNET_GCHeapHardLimit");
        return $"GC configuration {string.Join(", ", variables.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key}={v.Value}"))}; "
            + $"DATAS {(GCSettings.IsServerGC && Of("GCDynamicAdaptationMode") is not "0" ? "on" : "off")} (GCDynamicAdaptationMode {Of("GCDynamicAdaptationMode")}); "
            + $"GCHeapHardLimit {(hardLimit is null ? "none" : hardLimit)}, total available {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (double)MiB:0} MB";
    }

    private sealed record PhaseResult(double PeakMb, MemorySnapshot AfterIdle, MemorySnapshot AfterGc, int Busy);

    private sealed record MemorySnapshot(double WorkingSetMb, double ManagedMb, double LargeObjectHeapMb, double CommittedMb)
    {
        public override string ToString() => $"working set {WorkingSetMb:0} MB, managed {ManagedMb:0} MB (LOH {LargeObjectHeapMb:0.0} MB), GC committed {CommittedMb:0} MB";
    }
}
