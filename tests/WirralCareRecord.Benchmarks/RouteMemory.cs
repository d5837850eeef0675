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

        using var self = Process.GetCurrentProcess();
        var samples = new List<double>();
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                self.Refresh();
                lock (samples)
                {
                    samples.Add(self.WorkingSet64 / (double)MiB);
                }

                await Task.Delay(50, CancellationToken.None);
            }
        });

        var rounds = plan.Quick ? 3 : 5;
        var (gen0, gen1, gen2) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        var overPeak = await PhaseAsync(OverCap, HttpStatusCode.BadGateway);
        var underPeak = await PhaseAsync(UnderCap, HttpStatusCode.OK);
        await stop.CancelAsync();
        await sampler;

        // As a running gateway would be a few seconds after a burst: no one forces a collection.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var afterIdle = Snapshot();
        var collections = $"{GC.CollectionCount(0) - gen0} gen0, {GC.CollectionCount(1) - gen1} gen1, {GC.CollectionCount(2) - gen2} gen2 collections during the reads";

        // Longer idle, for whether the runtime hands memory back by itself given time (it decommits only as it collects).
        await Task.Delay(TimeSpan.FromSeconds(12));
        var afterLongIdle = Snapshot();
        FullCollection();
        var afterGc = Snapshot();
        await Task.Delay(TimeSpan.FromSeconds(2));
        var afterGcSettled = Snapshot();
        var peak = Math.Max(overPeak, underPeak);
        results.Log($"route memory: after 3 s idle, no forced GC: {afterIdle}; {collections}");
        results.Log($"route memory: after 15 s idle, no forced GC: {afterLongIdle}");
        results.Log($"route memory: after a forced full GC: {afterGc}; 2 s later: {afterGcSettled}");
        var growthIdle = afterIdle.WorkingSetMb - baseline.WorkingSetMb;
        var growthGc = afterGc.WorkingSetMb - baseline.WorkingSetMb;
        results.Log($"route memory: working set {baseline.WorkingSetMb:0} MB → peak {peak:0} MB (over cap {overPeak:0}, under cap {underPeak:0}) → {afterIdle.WorkingSetMb:0} MB after idle (growth {growthIdle:0} MB), {afterGc.WorkingSetMb:0} MB after GC (growth {growthGc:0} MB); limit {GrowthLimitMb:0} MB: {(growthIdle <= GrowthLimitMb ? "within" : "OVER")} after idle, {(growthGc <= GrowthLimitMb ? "within" : "OVER")} after GC");
        return new Dictionary<string, double>
        {
            ["route_large_answer_ws_baseline_mb"] = baseline.WorkingSetMb,
            ["route_large_answer_ws_peak_mb"] = peak,
            ["route_large_answer_ws_peak_mb_over_cap"] = overPeak,
            ["route_large_answer_ws_peak_mb_under_cap"] = underPeak,
            ["route_large_answer_ws_growth_after_idle_mb"] = growthIdle,
            ["route_large_answer_ws_growth_after_15s_idle_mb"] = afterLongIdle.WorkingSetMb - baseline.WorkingSetMb,
            ["route_large_answer_ws_growth_after_gc_mb"] = growthGc,
            ["route_large_answer_ws_growth_after_gc_settled_mb"] = afterGcSettled.WorkingSetMb - baseline.WorkingSetMb,
            ["route_large_answer_ws_growth_limit_mb"] = GrowthLimitMb,
            ["route_large_answer_managed_baseline_mb"] = baseline.ManagedMb,
            ["route_large_answer_managed_after_idle_mb"] = afterIdle.ManagedMb,
            ["route_large_answer_managed_after_gc_mb"] = afterGc.ManagedMb,
            ["route_large_answer_loh_baseline_mb"] = baseline.LargeObjectHeapMb,
            ["route_large_answer_loh_after_gc_mb"] = afterGc.LargeObjectHeapMb,
            ["route_large_answer_server_gc"] = GCSettings.IsServerGC ? 1 : 0,
        };

        // Rounds of four parallel reads of one answer; the peak working set sampled while they run.
        async Task<double> PhaseAsync(string ods, HttpStatusCode expected)
        {
            int start;
            lock (samples)
            {
                start = samples.Count;
            }

            for (var round = 0; round < rounds; round++)
            {
                var clock = Stopwatch.StartNew();
                var bytes = await Task.WhenAll(Enumerable.Range(0, Parallel).Select(_ => ExpectAsync(client, $"/sources/{ods.ToUpperInvariant()}/fhir/Condition?patient={LargeAnswerSource.PatientId}", expected)));
                if (expected == HttpStatusCode.OK && bytes.Any(b => b < source.AnswerBytes[ods] / 2))
                {
                    throw new InvalidOperationException($"The route passed on {bytes.Min()} bytes of a {source.AnswerBytes[ods]}-byte answer of this patient's own items: the entries were withheld, so nothing was measured.");
                }

                results.Log($"route memory: {ods} round {round + 1}: {Parallel} × {(int)expected} in {clock.Elapsed.TotalSeconds:0.0} s, {bytes.Average() / MiB:0.0} MB to the caller each");
            }

            lock (samples)
            {
                return samples.Skip(start).DefaultIfEmpty(0).Max();
            }
        }
    }

    /// <summary>
    /// One request, its status checked (and, for a refusal, that it is an OperationOutcome); the body read as a stream and
    /// dropped, so the client holds one small buffer whatever the answer's size. Returns the body's length.
    /// </summary>
    private static async Task<long> ExpectAsync(HttpClient client, string path, HttpStatusCode expected)
    {
        using var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var text = await response.Content.ReadAsStringAsync();
            var outcome = text.Length > 0 ? System.Text.Json.JsonSerializer.Deserialize<Resource>(text, FhirJson.Lenient) as OperationOutcome : null;
            if (response.StatusCode != expected || outcome is null)
            {
                throw new InvalidOperationException($"GET {path} answered {(int)response.StatusCode} ({text[..Math.Min(300, text.Length)]}), not {(int)expected} with an OperationOutcome.");
            }

            return text.Length;
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

            return total;
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

    private sealed record MemorySnapshot(double WorkingSetMb, double ManagedMb, double LargeObjectHeapMb, double CommittedMb)
    {
        public override string ToString() => $"working set {WorkingSetMb:0} MB, managed {ManagedMb:0} MB (LOH {LargeObjectHeapMb:0.0} MB), GC committed {CommittedMb:0} MB";
    }
}
