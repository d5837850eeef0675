using System.Diagnostics;
using System.Globalization;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.SourceAnswers;

namespace WirralCareRecord.Benchmarks;

/// <summary>How long and how hard each scenario runs: <c>--quick</c> for a check in a few minutes, the default for the committed figures.</summary>
internal sealed record BenchPlan(bool Quick)
{
    /// <summary>The GC modes to run (by name), when not all of them: comparing two needs no hour-long run.</summary>
    public IReadOnlyList<string>? GcModes { get; init; }

    /// <summary>Enough reads for the runtime to see the read path as hot and compile it at its higher tier.</summary>
    public static int FanoutWarmup => 40;

    public int FanoutReads => Quick ? 40 : 200;

    public static int Clients => 64;

    public TimeSpan LoadDuration => Quick ? TimeSpan.FromSeconds(8) : TimeSpan.FromSeconds(30);

    /// <summary>Load before the throughput run is measured, so the runtime has compiled the read path at its top tier.</summary>
    public TimeSpan ThroughputWarmup => Quick ? TimeSpan.FromSeconds(3) : TimeSpan.FromSeconds(20);

    /// <summary>How long each GC mode is measured, after its warm-up.</summary>
    public TimeSpan GcModeDuration => Quick ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(15);

    /// <summary>Passes over the GC modes, alternately forwards and backwards.</summary>
    public static int GcCycles => 2;

    public TimeSpan SoakDuration => Quick ? TimeSpan.FromSeconds(15) : TimeSpan.FromMinutes(5);

    public int ProxyRounds => Quick ? 2 : 3;

    public TimeSpan AuditDuration => Quick ? TimeSpan.FromSeconds(6) : TimeSpan.FromSeconds(20);

    public int ReportEvents => Quick ? 1_000_000 : 10_000_000;
}

internal static class Scenarios
{
    public static readonly TimeSpan L = TimeSpan.FromMilliseconds(50);

    /// <summary>Resources per source of the small record the throughput run is repeated with.</summary>
    private const int SmallRecord = 20;

    public static string Read(BenchSources sources) =>
        $"/fhir/Patient/$wcr-getrecord?patientNHSNumber={sources.Person.NhsNumber}";

    /// <summary>
    /// Fan-out: one caller, reads one after another, so each latency is the gateway's alone. Each source answers every
    /// request after L and offers <c>_revinclude</c>, so a record is one round trip per source and the floor is L. The
    /// process's CPU time per read is measured alongside: with every source answering at the same instant, the SDK's
    /// parsing and serialising of N records runs on the machine's cores, so L + CPU per read ÷ cores is the best any
    /// gateway built on the SDK could do here, and the second ratio says how near that the gateway comes.
    /// </summary>
    public static async Task<Dictionary<string, double>> FanoutAsync(BenchPlan plan, BenchResults results)
    {
        var figures = new Dictionary<string, double>();
        double oneSourceP50 = 0;
        var expectedEntries = await PerTypeEntriesAsync();
        foreach (var n in new[] { 1, 3, 8, 16 })
        {
            await using var sources = await BenchSources.StartAsync(n, L);
            await using var gateway = await BenchGateway.StartAsync(sources.Servers);
            using var client = await gateway.ClientAsync();
            var latencies = new List<double>();
            var collected = new List<bool>();
            using var body = new MemoryStream();
            var entries = 0;
            TimeSpan cpu = default;
            using var timeline = new ReadTimeline();
            for (var i = 0; i < BenchPlan.FanoutWarmup + plan.FanoutReads; i++)
            {
                if (i == BenchPlan.FanoutWarmup)
                {
                    await BenchGateway.WaitUntilQuietAsync();
                    timeline.Clear();
                }

                var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                var collectionsBefore = GC.CollectionCount(0);
                var started = Stopwatch.GetTimestamp();
                // The whole body is read, into one buffer kept across reads: the gateway shares this process with the
                // client here, so a client that made a new string of every megabyte-sized Bundle (and split it to count
                // entries) caused most of the collections that then paused the gateway mid-read.
                using var response = await client.GetAsync(Read(sources), HttpCompletionOption.ResponseHeadersRead);
                body.SetLength(0);
                await response.Content.CopyToAsync(body);
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                var collectedDuring = GC.CollectionCount(0) != collectionsBefore;
                var bytes = body.GetBuffer().AsSpan(0, (int)body.Length);
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"Fan-out read with {n} sources answered {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(bytes[..Math.Min(400, bytes.Length)])}");
                }

                if (i >= BenchPlan.FanoutWarmup)
                {
                    cpu += Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
                    latencies.Add(elapsed);
                    collected.Add(collectedDuring);
                    entries = bytes.Count("\"fullUrl\""u8);
                }
            }

            // One _revinclude call must give the record a search per type gives: same items, one Provenance per source.
            var sourceEntries = expectedEntries - 1;
            if (entries != n * sourceEntries + 1)
            {
                throw new InvalidOperationException($"Fan-out read with {n} sources had {entries} entries; a per-type read of one source has {expectedEntries}.");
            }

            var floor = L.TotalMilliseconds;
            var (p50, p95, p99) = (Stats.Percentile(latencies, 50), Stats.Percentile(latencies, 95), Stats.Percentile(latencies, 99));
            if (n == 1)
            {
                oneSourceP50 = p50;
            }

            var cpuPerRead = cpu.TotalMilliseconds / latencies.Count;
            var cpuFloor = floor + (cpuPerRead / Environment.ProcessorCount);
            figures[$"fanout_p50_ratio_{n}"] = p50 / floor;
            figures[$"fanout_p95_ratio_{n}"] = p95 / floor;
            figures[$"fanout_p99_ratio_{n}"] = p99 / floor;
            figures[$"fanout_p50_ms_{n}"] = p50;
            figures[$"fanout_p99_ms_{n}"] = p99;
            figures[$"fanout_cpu_ms_per_read_{n}"] = cpuPerRead;
            figures[$"fanout_p50_ratio_to_cpu_floor_{n}"] = p50 / cpuFloor;
            figures[$"fanout_sequential_sum_ms_{n}"] = n * oneSourceP50;
            var phases = timeline.Medians();
            foreach (var (phase, ms) in phases)
            {
                figures[$"fanout_{phase}_p50_ms_{n}"] = ms;
            }

            // Where the tail comes from: the same phases over the slowest 2 % of reads, and how many of those had a
            // garbage collection (this process's: the gateway runs in it here) while they ran.
            var slowest = timeline.Medians(slowestPercent: 2);
            foreach (var (phase, ms) in slowest)
            {
                figures[$"fanout_{phase}_slowest2pct_ms_{n}"] = ms;
            }

            var tailFrom = Stats.Percentile(latencies, 98);
            var tail = latencies.Select((ms, i) => (ms, collected[i])).Where(r => r.ms >= tailFrom).ToList();
            figures[$"fanout_slowest2pct_with_gc_pct_{n}"] = 100.0 * tail.Count(r => r.Item2) / Math.Max(1, tail.Count);
            figures[$"fanout_reads_with_gc_pct_{n}"] = 100.0 * collected.Count(c => c) / Math.Max(1, collected.Count);
            results.Log($"fan-out {n,2} sources, medians per read: {string.Join(", ", phases.Select(p => $"{p.Key.Replace('_', ' ')} {p.Value:0.00} ms"))}");
            results.Log($"fan-out {n,2} sources, slowest 2 % ({tail.Count} reads from {tailFrom:0.0} ms; {tail.Count(r => r.Item2)} with a collection during them, against {figures[$"fanout_reads_with_gc_pct_{n}"]:0} % of all reads), medians: {string.Join(", ", slowest.Select(p => $"{p.Key.Replace('_', ' ')} {p.Value:0.00} ms"))}");
            results.Log($"fan-out {n,2} sources ({sources.ResourcesPerSource} resources each, {entries} entries): p50 {p50:0.0} ms, p95 {p95:0.0} ms, p99 {p99:0.0} ms; floor L = {floor:0} ms; CPU {cpuPerRead:0.0} ms per read, so L + CPU/cores = {cpuFloor:0.0} ms (p50 ÷ that {p50 / cpuFloor:0.00}); sequential sum {n * oneSourceP50:0} ms");
        }

        figures["fanout_resources_per_source"] = BenchSources.TypicalRecord(150).Resources;
        return figures;
    }

    /// <summary>The entries of a one-source record fetched by a search per record type, the yardstick for the one-call fetch.</summary>
    private static async Task<int> PerTypeEntriesAsync()
    {
        await using var sources = await BenchSources.StartAsync(1, TimeSpan.Zero, revInclude: false);
        await using var gateway = await BenchGateway.StartAsync(sources.Servers);
        using var client = await gateway.ClientAsync();
        var body = await client.GetStringAsync(Read(sources));
        return body.Split("\"fullUrl\"").Length - 1;
    }

    /// <summary>
    /// Federated reads per second with 3 sources at L = 0 and 64 clients, audit on. The gateway runs in its own process
    /// (the sources and the load driver stay in this one), so its working set, allocations and CPU are its own; this
    /// process's allocations and CPU are reported beside them.
    /// </summary>
    public static async Task<Dictionary<string, double>> ThroughputAsync(BenchPlan plan, BenchResults results)
    {
        var figures = new Dictionary<string, double>();
        LoadResult load;
        await using (var sources = await BenchSources.StartAsync(3, TimeSpan.Zero))
        await using (var gateway = await OutOfProcessGateway.StartAsync(sources.Members))
        {
            using var client = await gateway.ClientAsync();
            results.Log($"throughput: gateway in its own process, {await gateway.GcInfoAsync()}");
            // Sampled from the first request to the last, so the peak covers warm-up, the measured run and the soak.
            await using var sampler = WorkingSetSampler.Start(gateway.WorkingSetMb);
            figures["gateway_started_working_set_mb"] = gateway.WorkingSetMb();
            results.Log($"throughput: gateway started and quiet, working set {figures["gateway_started_working_set_mb"]:0} MB; {await gateway.HeapAsync()}");
            // Long enough for the runtime to finish compiling the read path at its top tier: the full run of 6 December,
            // warmed for 3 s, measured 215 reads/s and then sustained 299 through the soak that followed.
            await LoadDriver.RunAsync(client, _ => Read(sources), BenchPlan.Clients, plan.ThroughputWarmup);
            await gateway.WaitUntilQuietAsync();
            await BenchGateway.WaitUntilQuietAsync();

            var gatewayAllocatedBefore = await gateway.AllocatedBytesAsync();
            var allocatedBefore = GC.GetTotalAllocatedBytes();
            var gcBefore = await gateway.GcCountAsync();
            var readCpuBefore = await gateway.CpuMsAsync();
            load = await LoadDriver.RunAsync(client, _ => Read(sources), BenchPlan.Clients, plan.LoadDuration);
            var gc = await gateway.GcCountAsync() - gcBefore;
            figures["federated_read_cpu_ms"] = (await gateway.CpuMsAsync() - readCpuBefore) / Math.Max(1, load.Requests);
            var allocated = GC.GetTotalAllocatedBytes() - allocatedBefore;
            var gatewayAllocated = await gateway.AllocatedBytesAsync() - gatewayAllocatedBefore;
            figures["gateway_collections_per_100_reads"] = 100.0 * gc.Collections / Math.Max(1, load.Requests);
            figures["gateway_gc_paused_pct"] = 100 * gc.PauseMs / plan.LoadDuration.TotalMilliseconds;

            // The long run: is the working set flat? First and last fifths of the soak's samples compared.
            var soakStart = sampler.Count;
            var soak = await LoadDriver.RunAsync(client, _ => Read(sources), BenchPlan.Clients, plan.SoakDuration);
            await sampler.StopAsync();
            results.Log($"throughput: after the soak, working set {gateway.WorkingSetMb():0} MB; {await gateway.HeapAsync()}");
            await gateway.CollectAsync();
            figures["gateway_working_set_after_full_gc_mb"] = gateway.WorkingSetMb();
            results.Log($"throughput: after a forced full collection, working set {figures["gateway_working_set_after_full_gc_mb"]:0} MB; {await gateway.HeapAsync()}");
            // Idle for two of the source pool's trim intervals: what a gateway gives back once a busy spell is over.
            var idle = (2 * SourceBufferPool.TrimInterval) + TimeSpan.FromSeconds(1);
            await Task.Delay(idle);
            await gateway.CollectAsync();
            figures["gateway_working_set_after_idle_mb"] = gateway.WorkingSetMb();
            results.Log($"throughput: after {idle.TotalSeconds:0} s idle and a forced full collection, working set {figures["gateway_working_set_after_idle_mb"]:0} MB; {await gateway.HeapAsync()}");
            var soakSamples = sampler.Samples.Skip(soakStart).ToList();
            var fifth = Math.Max(1, soakSamples.Count / 5);
            figures["federated_reads_per_s"] = load.PerSecond;
            figures["federated_read_p50_ms_64_clients"] = Stats.Percentile(load.LatenciesMs, 50);
            figures["federated_read_p99_ms_64_clients"] = Stats.Percentile(load.LatenciesMs, 99);
            figures["federated_read_failures"] = load.Failures + soak.Failures;
            figures["allocated_kb_per_request"] = gatewayAllocated / 1024.0 / Math.Max(1, load.Requests);
            figures["allocated_kb_per_request_sources_and_driver"] = allocated / 1024.0 / Math.Max(1, load.Requests);
            figures["soak_seconds"] = plan.SoakDuration.TotalSeconds;
            figures["soak_reads_per_s"] = soak.PerSecond;
            figures["peak_working_set_mb"] = sampler.Peak;
            figures["gateway_peak_working_set_os_mb"] = gateway.PeakWorkingSetMb();
            figures["working_set_first_fifth_mb"] = soakSamples.Take(fifth).DefaultIfEmpty(0).Average();
            figures["working_set_last_fifth_mb"] = soakSamples.TakeLast(fifth).DefaultIfEmpty(0).Average();
            results.Log($"soak {plan.SoakDuration.TotalSeconds:0} s: {soak.PerSecond:0} reads/s, gateway working set {figures["working_set_first_fifth_mb"]:0} MB first fifth, {figures["working_set_last_fifth_mb"]:0} MB last fifth; peak {figures["peak_working_set_mb"]:0} MB sampled, {figures["gateway_peak_working_set_os_mb"]:0} MB by the OS (start-up included)");
        }

        results.Log($"throughput: {load.PerSecond:0} reads/s ({load.Requests} reads, {load.Failures} failed), p50 {figures["federated_read_p50_ms_64_clients"]:0.0} ms, {figures["allocated_kb_per_request"]:0} KB allocated per read by the gateway ({figures["allocated_kb_per_request_sources_and_driver"]:0} KB by the sources and driver), {figures["federated_read_cpu_ms"]:0.0} ms CPU per read in the gateway; {figures["gateway_collections_per_100_reads"]:0.0} collections per 100 reads, threads paused {figures["gateway_gc_paused_pct"]:0.0} % of the time");
        foreach (var (name, value) in await SmallRecordAsync(plan, results))
        {
            figures[name] = value;
        }

        return figures;
    }

    /// <summary>
    /// The throughput load on a small record, for the gateway's cost per read apart from its cost per resource; part of
    /// <see cref="ThroughputAsync"/>, and on its own (<c>--only smallrecord</c>) for a quick comparison of two builds.
    /// </summary>
    public static async Task<Dictionary<string, double>> SmallRecordAsync(BenchPlan plan, BenchResults results)
    {
        var figures = new Dictionary<string, double>();
        // Run after the large record's gateway has gone, so this one has the cores to itself.
        await using var smallSources = await BenchSources.StartAsync(3, TimeSpan.Zero, target: SmallRecord);
        await using var smallGateway = await OutOfProcessGateway.StartAsync(smallSources.Members);
        using var smallClient = await smallGateway.ClientAsync();
        await LoadDriver.RunAsync(smallClient, _ => Read(smallSources), BenchPlan.Clients, plan.ThroughputWarmup);
        await smallGateway.WaitUntilQuietAsync();
        await BenchGateway.WaitUntilQuietAsync();
        var gatewayCpuBefore = await smallGateway.CpuMsAsync();
        var cpuBefore = ProcessCpuMs();
        var smallGcBefore = await smallGateway.GcCountAsync();
        var small = await LoadDriver.RunAsync(smallClient, _ => Read(smallSources), BenchPlan.Clients, plan.LoadDuration);
        var smallGc = await smallGateway.GcCountAsync() - smallGcBefore;
        figures["gateway_collections_per_100_reads_small_record"] = 100.0 * smallGc.Collections / Math.Max(1, small.Requests);
        figures["gateway_gc_paused_pct_small_record"] = 100 * smallGc.PauseMs / plan.LoadDuration.TotalMilliseconds;
        var smallCpu = (ProcessCpuMs() - cpuBefore) / Math.Max(1, small.Requests);
        var smallGatewayCpu = (await smallGateway.CpuMsAsync() - gatewayCpuBefore) / Math.Max(1, small.Requests);
        figures["federated_reads_per_s_small_record"] = small.PerSecond;
        figures["federated_read_cpu_ms_small_record"] = smallGatewayCpu;
        figures["federated_read_cpu_ms_small_record_sources_and_driver"] = smallCpu;
        figures["small_record_resources_per_source"] = smallSources.ResourcesPerSource;
        results.Log($"throughput, small record ({smallSources.ResourcesPerSource} resources per source): {small.PerSecond:0} reads/s ({small.Requests} reads, {small.Failures} failed), p50 {Stats.Percentile(small.LatenciesMs, 50):0.0} ms, {smallGatewayCpu:0.0} ms CPU per read in the gateway ({smallCpu:0.0} ms in the sources and driver); {figures["gateway_collections_per_100_reads_small_record"]:0.0} collections per 100 reads, threads paused {figures["gateway_gc_paused_pct_small_record"]:0.0} % of the time");
        return figures;
    }

    private static double ProcessCpuMs()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalMilliseconds;
    }

    /// <summary>Single-source route (sign-in, agreement check, audit) against a bare YARP route to the same upstream, same process, alternating.</summary>
    public static async Task<Dictionary<string, double>> ProxyAsync(BenchPlan plan, BenchResults results)
    {
        await using var sources = await BenchSources.StartAsync(1, TimeSpan.Zero);
        var upstream = sources.Servers[0].Server.BaseUrl;
        await using var gateway = await BenchGateway.StartAsync(sources.Servers, bareUpstream: upstream);
        using var client = await gateway.ClientAsync();
        using var patients = await client.GetAsync($"{BenchGateway.BarePrefix}/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{sources.Person.NhsNumber}");
        var bundle = System.Text.Json.JsonSerializer.Deserialize<Bundle>(await patients.Content.ReadAsStringAsync(), WirralCareRecord.Gateway.Hosting.FhirJson.Lenient)!;
        var patientId = bundle.Entry.Select(e => e.Resource).OfType<Patient>().Single().Id;
        var conditions = await CompareAsync($"/Condition?patient={patientId}&_count=100", "conditions");
        var patient = await CompareAsync($"/Patient/{patientId}", "one Patient");
        return new Dictionary<string, double>
        {
            ["proxy_throughput_ratio"] = conditions.Ratio,
            ["proxy_routed_req_per_s"] = conditions.Routed,
            ["proxy_bare_req_per_s"] = conditions.Bare,
            ["proxy_process_cpu_us_per_request_routed"] = conditions.RoutedCpuUs,
            ["proxy_process_cpu_us_per_request_bare"] = conditions.BareCpuUs,
            ["proxy_process_allocated_kb_per_request_routed"] = conditions.RoutedKb,
            ["proxy_process_allocated_kb_per_request_bare"] = conditions.BareKb,
            ["proxy_throughput_ratio_one_patient"] = patient.Ratio,
            ["proxy_routed_req_per_s_one_patient"] = patient.Routed,
            ["proxy_bare_req_per_s_one_patient"] = patient.Bare,
        };

        // The routed answer is parsed, checked, rewritten and serialised again; the bare one is streamed. A large answer
        // (a patient's conditions) and a small one (their Patient) separate the SDK's cost per resource from the route's own.
        async Task<(double Ratio, double Routed, double Bare, double RoutedCpuUs, double BareCpuUs, double RoutedKb, double BareKb)> CompareAsync(string query, string label)
        {
            string Routed(int _) => $"/sources/{sources.Servers[0].Ods}/fhir{query}";
            string Bare(int _) => BenchGateway.BarePrefix + query;
            using var check = await client.GetAsync(Routed(0));
            if (!check.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"The source route answered {(int)check.StatusCode}: {await check.Content.ReadAsStringAsync()}");
            }

            var size = (await check.Content.ReadAsByteArrayAsync()).Length;
            await LoadDriver.RunAsync(client, Bare, BenchPlan.Clients, TimeSpan.FromSeconds(2));
            await LoadDriver.RunAsync(client, Routed, BenchPlan.Clients, TimeSpan.FromSeconds(2));
            await BenchGateway.WaitUntilQuietAsync();
            var ratios = new List<double>();
            var routedRates = new List<double>();
            var bareRates = new List<double>();
            var routedCpu = new List<double>();
            var bareCpu = new List<double>();
            var routedKb = new List<double>();
            var bareKb = new List<double>();
            var routedGen2 = 0;
            var bareGen2 = 0;
            for (var round = 0; round < plan.ProxyRounds; round++)
            {
                // The whole process's CPU and allocation per request (client, source and gateway share it): the difference
                // between the two routes is what the source route itself costs.
                LogGcEvents($"before round {round + 1}");
                var cpuBefore = ProcessCpuMs();
                var allocatedBefore = GC.GetTotalAllocatedBytes();
                var gen2Before = GC.CollectionCount(2);
                var bare = await LoadDriver.RunAsync(client, Bare, BenchPlan.Clients, plan.LoadDuration / 2);
                bareCpu.Add(1000 * (ProcessCpuMs() - cpuBefore) / Math.Max(1, bare.Requests));
                bareKb.Add((GC.GetTotalAllocatedBytes() - allocatedBefore) / 1024.0 / Math.Max(1, bare.Requests));
                bareGen2 += GC.CollectionCount(2) - gen2Before;
                LogGcEvents($"round {round + 1}, bare route");
                cpuBefore = ProcessCpuMs();
                allocatedBefore = GC.GetTotalAllocatedBytes();
                gen2Before = GC.CollectionCount(2);
                var routed = await LoadDriver.RunAsync(client, Routed, BenchPlan.Clients, plan.LoadDuration / 2);
                routedCpu.Add(1000 * (ProcessCpuMs() - cpuBefore) / Math.Max(1, routed.Requests));
                routedKb.Add((GC.GetTotalAllocatedBytes() - allocatedBefore) / 1024.0 / Math.Max(1, routed.Requests));
                routedGen2 += GC.CollectionCount(2) - gen2Before;
                LogGcEvents($"round {round + 1}, source route");
                if (routed.Failures > 0 || bare.Failures > 0)
                {
                    throw new InvalidOperationException($"Proxy run failed requests: routed {routed.Failures}, bare {bare.Failures}");
                }

                ratios.Add(routed.PerSecond / bare.PerSecond);
                routedRates.Add(routed.PerSecond);
                bareRates.Add(bare.PerSecond);
                results.Log($"proxy ({label}, {size / 1024} KB) round {round + 1}: routed {routed.PerSecond:0} req/s, bare {bare.PerSecond:0} req/s, ratio {routed.PerSecond / bare.PerSecond:0.00}; process CPU per request routed {routedCpu[^1]:0} µs, bare {bareCpu[^1]:0} µs; allocated per request routed {routedKb[^1]:0.0} KB, bare {bareKb[^1]:0.0} KB; gen 2 collections so far routed {routedGen2}, bare {bareGen2}");
            }

            return (Stats.Median(ratios), Stats.Median(routedRates), Stats.Median(bareRates), Stats.Median(routedCpu), Stats.Median(bareCpu), Stats.Median(routedKb), Stats.Median(bareKb));

            void LogGcEvents(string when)
            {
                foreach (var line in GcEvents.Instance?.TakeSummary() ?? [])
                {
                    results.Log($"  gc events ({label}, {when}): {line}");
                }
            }
        }
    }

    /// <summary>Durable audit appends per second through the gateway's own log (group commit), many writers at once.</summary>
    public static async Task<Dictionary<string, double>> AuditAsync(BenchPlan plan, BenchResults results, string label, IDictionary<string, string?>? settings = null)
    {
        await using var sources = await BenchSources.StartAsync(1, TimeSpan.Zero);
        await using var gateway = await BenchGateway.StartAsync(sources.Servers, settings);
        var store = gateway.Services.GetRequiredService<IAuditStore>();
        const int writers = 256;
        var latencies = new List<double>[writers];
        var clock = Stopwatch.StartNew();
        var warmup = TimeSpan.FromSeconds(1);
        var count = 0;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(async w =>
        {
            var mine = latencies[w] = [];
            var n = 0;
            while (clock.Elapsed < warmup + plan.AuditDuration)
            {
                var started = Stopwatch.GetTimestamp();
                await store.AppendAsync(Event(w, n++), CancellationToken.None);
                if (clock.Elapsed > warmup)
                {
                    mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    Interlocked.Increment(ref count);
                }
            }
        }));
        var seconds = (clock.Elapsed - warmup).TotalSeconds;
        var all = latencies.SelectMany(l => l).ToList();
        var perSecond = count / seconds;
        results.Log($"audit ({label}): {perSecond:0} durable events/s with {writers} writers, append p50 {Stats.Percentile(all, 50):0.0} ms, p99 {Stats.Percentile(all, 99):0.0} ms");
        return new Dictionary<string, double>
        {
            [$"audit_events_per_s{label}"] = perSecond,
            [$"audit_append_p50_ms{label}"] = Stats.Percentile(all, 50),
            [$"audit_append_p99_ms{label}"] = Stats.Percentile(all, 99),
        };
    }

    private static AuditEntry Event(int writer, int n)
    {
        var access = new AccessAudit(
            AccessKind.FederatedRead, $"bench-{writer}-{n}", $"user-{writer % 40}", "Bench Clinician", ["Clinician"], BenchGateway.Consumer, "TREAT",
            "9000000009", "GET /fhir/Patient/$wcr-getrecord", 200, null,
            [new SourceAuditEntry("S01", "returned", 150, 0, 10), new SourceAuditEntry("S02", "returned", 150, 0, 10), new SourceAuditEntry("S03", "no-match", 0, 0, 1)]);
        return new AuditEntry(access, DateTimeOffset.UtcNow, "bench");
    }

    public static string Invariant(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
