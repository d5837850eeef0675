using System.Globalization;
using System.Text;
using System.Text.Json;

namespace WirralCareRecord.Benchmarks;

/// <summary>Collects figures and writes results/summary.json and results/README.md.</summary>
internal sealed class BenchResults
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private readonly List<string> _log = [];

    public SortedDictionary<string, double> Figures { get; } = new(StringComparer.Ordinal);

    public void Log(string line)
    {
        Console.WriteLine(line);
        _log.Add(line);
    }

    /// <summary>
    /// Starts from an earlier run's figures and log in <paramref name="folder"/> (<c>--keep</c>): a scenario run again on
    /// its own replaces only its own figures, and the log says which lines came from which run.
    /// </summary>
    public async Task KeepAsync(string folder)
    {
        var summary = Path.Combine(folder, "summary.json");
        if (File.Exists(summary))
        {
            foreach (var (key, value) in JsonSerializer.Deserialize<Dictionary<string, double>>(await File.ReadAllTextAsync(summary)) ?? [])
            {
                Figures[key] = value;
            }
        }

        var log = Path.Combine(folder, "run-log.txt");
        if (File.Exists(log))
        {
            _log.AddRange(await File.ReadAllLinesAsync(log));
            _log.Add("--- later run (--keep): the scenarios below replace the same scenarios' figures above ---");
        }
    }

    public void Add(Dictionary<string, double> figures)
    {
        foreach (var (key, value) in figures)
        {
            Figures[key] = Math.Round(value, 4);
        }
    }

    public async Task WriteAsync(string folder, bool quick, IReadOnlyList<string> missing)
    {
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "summary.json"), JsonSerializer.Serialize(Figures, Indented) + "\n");
        await File.WriteAllLinesAsync(Path.Combine(folder, "run-log.txt"), _log);

        string F(string key, string format = "0.00") => Figures.TryGetValue(key, out var v) ? v.ToString(format, CultureInfo.InvariantCulture) : "not measured";
        string Met(string key, Func<double, bool> ok) => Figures.TryGetValue(key, out var v) ? (ok(v) ? "met" : "**missed**") : "not measured";
        // The streaming issue's targets: p50 (and at 8 sources p99) of a read over the source latency L.
        string FanoutTarget(int n) => n switch { 3 => "p50 ≤ 1.15", 8 => "p50 ≤ 1.25, p99 ≤ 1.4", 16 => "p50 ≤ 1.5", _ => "" };
        string FanoutMet(int n) => n switch
        {
            3 => Met("fanout_p50_ratio_3", v => v <= 1.15),
            8 => Met("fanout_p50_ratio_8", v => v <= 1.25) + " / " + Met("fanout_p99_ratio_8", v => v <= 1.4),
            16 => Met("fanout_p50_ratio_16", v => v <= 1.5),
            _ => "",
        };
        var md = new StringBuilder();
        md.AppendLine("# Benchmark results");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, mode `{(quick ? "--quick" : "full")}`, {F("cores", "0")} cores ({Environment.OSVersion}, .NET {Environment.Version}). The machine is shared: read the ratios, which are measured within this run; absolute figures are beside them for scale only. Gateway, sources and load driver share the machine's cores; in the throughput and GC-mode runs the gateway is a process of its own, elsewhere they share one process.");
        md.AppendLine();
        md.AppendLine("| measure | ratio / figure | absolute | target | |");
        md.AppendLine("| --- | --- | --- | --- | --- |");
        foreach (var n in new[] { 1, 3, 8, 16 })
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| fan-out, {n} source(s): p50 / p95 / p99 ÷ L | {F($"fanout_p50_ratio_{n}")} / {F($"fanout_p95_ratio_{n}")} / {F($"fanout_p99_ratio_{n}")} | p50 {F($"fanout_p50_ms_{n}", "0")} ms, p99 {F($"fanout_p99_ms_{n}", "0")} ms; CPU {F($"fanout_cpu_ms_per_read_{n}", "0.0")} ms per read, p50 ÷ (L + CPU/cores) {F($"fanout_p50_ratio_to_cpu_floor_{n}")}; sequential sum {F($"fanout_sequential_sum_ms_{n}", "0")} ms; medians: before the sources {F($"fanout_before_sources_p50_ms_{n}", "0.0")} ms, each source's own {F($"fanout_source_server_p50_ms_{n}", "0.0")} ms, its answer read and kept {F($"fanout_source_after_answer_p50_ms_{n}", "0.0")} ms, after the last source {F($"fanout_after_sources_p50_ms_{n}", "0.0")} ms | {FanoutTarget(n)} | {FanoutMet(n)} |");
        }

        md.AppendLine(CultureInfo.InvariantCulture, $"| merge CPU: gateway ÷ SDK parse+serialise | {F("merge_cpu_ratio")} | {F("merge_cpu_ms_per_record")} ms vs {F("parse_serialise_cpu_ms_per_record")} ms CPU per 3-source record | ≤ 0.25 | {Met("merge_cpu_ratio", v => v <= 0.25)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| merge, BenchmarkDotNet (in process): gateway ÷ SDK | {F("merge_bdn_ratio")} | medians {F("merge_bdn_gateway_ms")} ms vs {F("merge_bdn_sdk_ms")} ms; allocated {F("merge_bdn_gateway_kb", "0")} KB vs {F("merge_bdn_sdk_kb", "0")} KB per record | ≤ 0.25 | {Met("merge_bdn_ratio", v => v <= 0.25)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| proxy: source route ÷ bare YARP route, 64 clients | {F("proxy_throughput_ratio")} | {F("proxy_routed_req_per_s", "0")} vs {F("proxy_bare_req_per_s", "0")} req/s; CPU of the whole process (client, source, gateway) per request {F("proxy_process_cpu_us_per_request_routed", "0")} vs {F("proxy_process_cpu_us_per_request_bare", "0")} µs | ≥ 0.8 | {Met("proxy_throughput_ratio", v => v >= 0.8)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| proxy as above, one Patient read | {F("proxy_throughput_ratio_one_patient")} | {F("proxy_routed_req_per_s_one_patient", "0")} vs {F("proxy_bare_req_per_s_one_patient", "0")} req/s | ≥ 0.8 | {Met("proxy_throughput_ratio_one_patient", v => v >= 0.8)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| federated reads/s, 3 sources, L = 0, 64 clients, audit on | {F("federated_reads_per_s", "0")} | p50 {F("federated_read_p50_ms_64_clients", "0")} ms, p99 {F("federated_read_p99_ms_64_clients", "0")} ms; {F("allocated_kb_per_request", "0")} KB allocated per read by the gateway alone ({F("allocated_kb_per_request_sources_and_driver", "0")} KB by the sources and load driver); {F("federated_read_cpu_ms", "0.0")} ms CPU per read in the gateway; {F("gateway_collections_per_100_reads", "0.0")} collections per 100 reads, threads paused for them {F("gateway_gc_paused_pct", "0.0")} % of the time | ≥ 500; ≤ 1,000 KB allocated | {Met("federated_reads_per_s", v => v >= 500)} / {Met("allocated_kb_per_request", v => v <= 1000)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| federated reads/s as above, small record ({F("small_record_resources_per_source", "0")} resources per source) | {F("federated_reads_per_s_small_record", "0")} | {F("federated_read_cpu_ms_small_record", "0.0")} ms CPU per read in the gateway process ({F("federated_read_cpu_ms_small_record_sources_and_driver", "0.0")} ms in the sources and load driver); threads paused for collections {F("gateway_gc_paused_pct_small_record", "0.0")} % of the time | ≥ 2,000 | {Met("federated_reads_per_s_small_record", v => v >= 2000)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| peak working set, gateway process alone (sources and load driver in the benchmark process) | {F("peak_working_set_mb", "0")} MB | soak {F("soak_seconds", "0")} s: {F("working_set_first_fifth_mb", "0")} MB first fifth → {F("working_set_last_fifth_mb", "0")} MB last fifth; OS peak {F("gateway_peak_working_set_os_mb", "0")} MB (start-up included) | < 300 MB, flat | {Met("peak_working_set_mb", v => v < 300)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| audit, local store, group commit | {F("audit_events_per_s", "0")} events/s | append p50 {F("audit_append_p50_ms")} ms, p99 {F("audit_append_p99_ms")} ms | | |");
        if (Figures.ContainsKey("audit_events_per_s_azurite"))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| audit, Azurite, group commit | {F("audit_events_per_s_azurite", "0")} events/s | append p50 {F("audit_append_p50_ms_azurite")} ms, p99 {F("audit_append_p99_ms_azurite")} ms | | |");
        }

        md.AppendLine(CultureInfo.InvariantCulture, $"| federated read with the data-quality sampler on ({F("sampling_default_share", "0.##")} of answers) ÷ off: p50 / p99 | {F("sampling_latency_ratio_p50")} / {F("sampling_latency_ratio_p99")} | off p50 {F("sampling_off_p50_ms", "0.0")} ms, p99 {F("sampling_off_p99_ms", "0.0")} ms; on p50 {F("sampling_on_p50_ms", "0.0")} ms, p99 {F("sampling_on_p99_ms", "0.0")} ms; {F("sampling_answers_validated", "0")} answers validated | about 1 (unchanged) | |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| record locator, 60 practices + 2 trusts: sources contacted per warm read (median) | {F("sources_contacted_per_read", "0")} | first read (a sweep) {F("sources_contacted_first_read", "0")}; {F("locator_requests_per_contacted_source", "0")} request(s) per contacted source; {F("sources_contacted_per_read_10_practices", "0")} with 10 practices | ≤ 4 (the holding practice and the two trusts: 3) | {Met("sources_contacted_per_read", v => v <= 4)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| record locator: warm read p50, 60 practices ÷ 10 | {F("locator_p50_ratio_60_vs_10")} | p50 {F("locator_warm_p50_ms_60", "0.0")} ms vs {F("locator_warm_p50_ms_10", "0.0")} ms | ≤ 1.05 | {Met("locator_p50_ratio_60_vs_10", v => v <= 1.05)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| source route, 4 parallel 40 MB answers (refused at the cap): working-set growth after 3 s idle | {F("route_large_answer_ws_growth_after_idle_mb", "0")} MB | baseline {F("route_large_answer_ws_baseline_mb", "0")} MB, peak {F("route_large_answer_ws_peak_mb", "0")} MB, after a forced GC {F("route_large_answer_ws_growth_after_gc_mb", "+0;-0;0")} MB | ≤ {F("route_large_answer_ws_growth_limit_mb", "0")} MB | {Met("route_large_answer_ws_growth_after_idle_mb", v => v <= Figures.GetValueOrDefault("route_large_answer_ws_growth_limit_mb", 100))} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| source route, 4 parallel 30 MB answers (read whole, filtered, passed on): working-set growth after 3 s idle | {F("route_large_answer_under_cap_ws_growth_after_idle_mb", "0")} MB | peak {F("route_large_answer_under_cap_ws_peak_mb", "0")} MB, after a forced GC {F("route_large_answer_under_cap_ws_growth_after_gc_mb", "+0;-0;0")} MB; {F("route_large_answer_allocated_mb_per_read_under_cap", "0")} MB allocated per read | | |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| story-once report, a year by month, from roll-ups | {F("report_10m_events_s", "0.000")} s | over {F("report_events", "N0")} events | < 1 s (10 M events) | {Met("report_10m_events_s", v => v < 1)} |");
        md.AppendLine();
        if (Figures.Keys.Any(k => k.StartsWith("gc_", StringComparison.Ordinal)))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"GC modes: the gateway process alone under each GC configuration, federated reads as above (3 sources, L = 0, 64 clients), {F("gc_mode_seconds", "0")} s each, mean of {F("gc_mode_cycles", "0")} passes (peak: the highest).");
            md.AppendLine();
            md.AppendLine("| GC mode | reads/s | p99 | gateway CPU per read (ms) | collections per 100 reads | threads paused (% of the time) | working set started / peak | failures |");
            md.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
            foreach (var mode in GcModes.Modes.Where(m => Figures.ContainsKey($"gc_{m.Name}_reads_per_s")))
            {
                var died = Figures.ContainsKey($"gc_{mode.Name}_died") ? " (**the gateway died**)" : "";
                md.AppendLine(CultureInfo.InvariantCulture, $"| `{mode.Name}`: {mode.Description}{died} | {F($"gc_{mode.Name}_reads_per_s", "0")} | {F($"gc_{mode.Name}_p99_ms", "0")} ms | {F($"gc_{mode.Name}_cpu_ms_per_read", "0.00")} | {F($"gc_{mode.Name}_collections_per_100_reads", "0.0")} | {F($"gc_{mode.Name}_paused_pct", "0.0")} | {F($"gc_{mode.Name}_started_working_set_mb", "0")} / {F($"gc_{mode.Name}_peak_working_set_mb", "0")} MB | {F($"gc_{mode.Name}_failures", "0")} |");
            }

            md.AppendLine();
        }

        if (missing.Count > 0)
        {
            md.AppendLine("Not measured in this run: " + string.Join("; ", missing) + ".");
            md.AppendLine();
        }

        md.AppendLine("## Investigations");
        md.AppendLine();
        md.AppendLine("What the figures showed and why (profiles, heap snapshots, the source route's memory under large answers) is in `INVESTIGATIONS.md` beside this file.");
        md.AppendLine();
        md.AppendLine("## How each is measured");
        md.AppendLine();
        md.AppendLine("- **Fan-out**: every source is a demo source server answering each request after L = 50 ms with one person's GP record (about 150 resources), offering `_revinclude` so a record is one call per source and the floor is L. Sources replay their answers from memory, so their own serialising does not count against the gateway. One caller, reads in sequence after 40 warm-up reads and a wait until the process is quiet (the runtime compiles hot code at its higher tier in the background for a while); each run first checks that the one-call record has exactly the entries a search per type gives. The process's CPU time per read is measured alongside: all sources answer at the same instant, so parsing and serialising N records with the SDK runs on the machine's cores, and L + CPU per read ÷ cores is what any gateway built on the SDK could reach here. The sequential sum is N × the one-source p50: what asking sources one after another would cost. Where each read's time goes comes from the activities ASP.NET Core, HttpClient and the gateway already emit (`ReadTimeline.cs`, a listener in the process): before the first source is asked (sign-in, agreements, locator), each source's own time to answer (its server activity: L, then writing its answer, which ends only as the gateway reads it), from the source's answer headers to that source's result (the answer read, outlined, decided and kept), and from the last source's result to the end of the response (the Bundle written while the audit is made durable, then sent), that last split by the gateway's own `audit append` and `record bundle` spans into the time until the audit starts, each of the two, and the time after both until the response has gone; medians over the measured reads, and the same medians over the slowest 2 % of reads (by the gateway's request time) with how many of those had a collection while they ran, to show where the tail comes from. The caller reads each Bundle whole into one buffer kept across reads and counts its entries in the bytes: the gateway shares this process, so a caller that made a string of each megabyte-sized Bundle would put its garbage in the gateway's collections (until 7 December 2026 it did, and most of the collections in the slowest reads were its own).");
        md.AppendLine("- **Merge CPU**: the gateway's own `FhirSourceClient` (outline, match, decide, keep as bytes) for three sources and `RecordBundleBuilder.Write` (the Bundle written from the kept bytes: addresses, same-item links, Provenance), fed a source's recorded answer from memory; against deserialising and reserialising the same answer bytes with the Firely SDK and the same settings. Process CPU time (`Process.TotalProcessorTime`, every thread, so the GC's work counts too) over a loop on one thread, after warm-up; alternating rounds, median ratio. The same pair then runs under BenchmarkDotNet's in-process toolchain (so both share the warm SDK and the recorded answers), which gives wall-clock medians and allocations per record. The run log names the types allocated most, from the runtime's allocation sampling over 100 further records.");
        md.AppendLine("- **Proxy**: `GET /sources/S01/fhir/Condition?patient=…` (sign-in, agreement check, response transforms, audit), and then a read of the patient's Patient, against `GET /bare/…`, a YARP route added only in the benchmark host by a second `IProxyConfigProvider`, to the same upstream in the same process; 64 closed-loop clients, alternating rounds, median ratio. The process's CPU time per request is measured over each run: the client, the source and the gateway share the process, so the routed figure less the bare one is what the source route itself costs per request. Allocation per request (`GC.GetTotalAllocatedBytes` over each run, whole process) and the gen 2 collections during each route's runs go to the run log and to `summary.json` (`proxy_process_allocated_kb_per_request_*`); with `--gc-events` the log also counts the process's collections by generation and reason and its allocations outside gen 0 by type (the runtime's GC events, read by an in-process `EventListener`), which is how a per-batch audit buffer on the large object heap was found.");
        md.AppendLine("- **Throughput**: 64 closed-loop clients of `$wcr-getrecord` with 3 sources at L = 0, audit on (local store), after a warm-up and a wait until the process is quiet; each client reads every answer whole into one reused buffer (buffering each record in a new array would put the driver's garbage in the gateway's collections); then a soak at the same load while the gateway's working set is sampled every 250 ms; then the same load on a small record, which shows the gateway's cost per read apart from the SDK's cost per resource. The gateway process reports its own CPU time, its collections (`GC.CollectionCount(0)`, which counts every collection) and the time its threads were paused for them (`GC.GetTotalPauseDuration`) before and after each measured run; a sampling profiler's stacks cannot tell those pauses from its own (it suspends the threads to sample them).");
        md.AppendLine("- **Gateway memory and allocation (throughput)**: the gateway runs in a child process of the benchmark executable (`--serve-gateway`), started after the sources, with its storage in a fresh temporary folder; the demo sources and the 64-client load driver stay in the benchmark process. The peak working set is the highest of the child's working set (`Process.WorkingSet64`) sampled every 250 ms from the first warm-up read to the end of the soak; the OS peak (`PeakWorkingSet64`) beside it includes start-up. Allocation per read is the child's `GC.GetTotalAllocatedBytes` over the measured run ÷ reads; the benchmark process's own over the same run is given beside it. CPU per small-record read is likewise the child's `TotalProcessorTime`, with the benchmark process's beside it. The run log gives the child's GC heap, committed, fragmented, large and pinned object heap sizes and its resident memory by kind (`/proc/self/status`) when quiet, after the soak and after a forced full collection; beside the pinned object heap, what the gateway's source buffer pool holds (`SourceBufferPool`, free blocks kept for reuse and blocks in use) and what Kestrel's pinned block pool holds (allocated less evicted, from ASP.NET Core 10's `Microsoft.AspNetCore.MemoryPool` meter), so the pinned heap can be told apart by owner. After the soak and that collection the gateway is left idle for two of the source pool's trim intervals (21 s), collected again and measured once more (`gateway_working_set_after_idle_mb`): what it gives back once a busy spell is over. Both processes share the machine's cores.");
        md.AppendLine("- **GC modes**: the throughput load against an out-of-process gateway started under each GC configuration in turn (environment variables the runtime reads at start-up: `DOTNET_GCDynamicAdaptationMode=0`, `DOTNET_GCHeapHardLimit` in hexadecimal, `DOTNET_gcServer=0`; the default is server GC with DATAS), over the same sources; each gateway is waited on until quiet, warmed for 3 s, waited on again, then measured. Two passes, the second in the reverse order (ABCDE EDCBA) so drift on the shared machine falls alike; reads/s and p99 are the mean of the two passes, the peak working set (sampled every 250 ms over warm-up and run) the higher, failures the sum. A mode whose gateway ends (out of memory) is reported as died, its figures 0. The run log has each pass, the GC settings the child reported, and its working set after a forced full GC. The gen 0 budget modes set `DOTNET_GCgen0size` (the runtime reads no `runtimeconfig.json` name for it). `--gc-modes a,b` runs only the named modes.");
        md.AppendLine("- **Audit**: 256 concurrent writers calling the gateway's `IAuditStore.AppendAsync` (each returns once its group commit is durable).");
        md.AppendLine("- **Sampling**: two gateways in the process over the same 3 demo sources (L = 50 ms, about 150 resources each, `_revinclude`), one with `Validation:SampleShare` 0 (the sampler off) and one at its default share. After 40 warm-up reads each, the sampler drained and a wait until the process is quiet, one caller's `$wcr-getrecord` reads alternate between the two in blocks of 10 (which goes first alternates too); after each block on the sampling gateway its sampler is drained, untimed, so validation left over from it never runs during the next block without sampling. p50 and p99 of each side, and on ÷ off.");
        md.AppendLine("- **Record locator**: 60 demo GP practices (one holds the patient; the others hold nobody) and the acute and community trusts, every source answering after L = 50 ms and offering `_revinclude`; two gateways in the run over the same servers, one onboarding all 60 practices and one only 10 (the holder among them). The first read has no locator entry, so it asks everyone; after 40 warm-up reads each and a wait until the process is quiet, warm reads of `$wcr-getrecord` alternate between the two in blocks of 10. A handler on the gateway's own per-source clients counts the data requests (CapabilityStatement reads left out) each source receives per read; the figure is the median over warm reads of the sources that received any. The ratio is the 60-practice warm p50 over the 10-practice one.");
        md.AppendLine("- **Source route memory**: a raw FHIR source in the process streams a Condition searchset (chunked, no Content-Length, one buffer of entries written over and over) of 40 MB, over `Federation:MaxSourceResponseBytes` (32 MB, so refused with a 502 OperationOutcome), and of 30 MB (read whole, filtered and passed on with a 200). After warming the route on small answers, waiting until the process is quiet and a full blocking GC, the working set (`Process.WorkingSet64`, whole process) is the baseline; then rounds of 4 parallel `GET /sources/{ods}/fhir/Condition?patient=…` per size, the working set sampled every 50 ms for the peak; 3 s idle with no forced GC (as a running gateway would be), then a forced full GC. The client reads each answer as a stream and discards it. Four answers near the cap at once are more than the gateway's byte budget (`Federation:MaxBufferedSourceBytes`, 64 MB by default): reads that find it full are answered 503 with Retry-After (busy) and counted (`route_large_answer_busy_reads_*`). Run log: GC mode (server GC, DATAS) and managed, large-object-heap and committed sizes.");
        md.AppendLine("- **Report**: generated accesses (6,000 staff, 350,000 patients, 9 organisations) folded into 365 daily roll-ups by the gateway's own `DayRollup.Add` and stored where sealed days' roll-ups live; the report is then asked for over HTTP as an auditor; first (cold) call excluded (it makes and stores the sealed months' roll-ups from those days, as the gateway does the first time a report asks for a month; its time is in the run log), median of 5. The raw log for those events is not generated (writing it through the log would take hours here): the report reads only roll-ups for sealed days, so its time does not depend on it.");
        md.AppendLine();
        md.AppendLine("## Run log");
        md.AppendLine();
        md.AppendLine("```");
        foreach (var line in _log)
        {
            md.AppendLine(line);
        }

        md.AppendLine("```");
        await File.WriteAllTextAsync(Path.Combine(folder, "README.md"), md.ToString());
    }
}
