namespace WirralCareRecord.Benchmarks;

/// <summary>A GC configuration the gateway process can be started under: environment variables read by the runtime at start-up.</summary>
/// <param name="Settings">Gateway configuration for the mode, when it weighs a setting of the gateway's own beside the runtime's.</param>
internal sealed record GcMode(string Name, string Description, IReadOnlyDictionary<string, string> Environment, IReadOnlyDictionary<string, string?>? Settings = null);

/// <summary>
/// The throughput load (3 sources, about 150 resources each, L = 0, 64 clients) against an out-of-process gateway under
/// each GC configuration the issue weighs ("server GC sized for the container: GCHeapHardLimit or DATAS"), one
/// gateway after another on the same sources.
/// </summary>
internal static class GcModes
{
    public static readonly IReadOnlyList<GcMode> Modes =
    [
        new("datas", "server GC, DATAS on (the default)", new Dictionary<string, string>()),
        new("datas_off", "server GC, DATAS off", new Dictionary<string, string> { ["DOTNET_GCDynamicAdaptationMode"] = "0" }),
        // The runtime reads GC sizes as hexadecimal: 0x12C00000 is 300 MiB.
        new("hardlimit_300mb", "server GC, heap hard limit 300 MiB", new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0x12C00000" }),
        new("hardlimit_200mb", "server GC, heap hard limit 200 MiB", new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0xC800000" }),
        new("workstation", "workstation GC", new Dictionary<string, string> { ["DOTNET_gcServer"] = "0" }),
        new("datas_conserve", "server GC, DATAS on, GCConserveMemory 7", new Dictionary<string, string> { ["DOTNET_GCConserveMemory"] = "7" }),
        // Not the GC: W^X maps every page of compiled code twice (shared memory), which the working set counts.
        new("datas_wxe_off", "server GC, DATAS on, W^X off", new Dictionary<string, string> { ["DOTNET_EnableWriteXorExecute"] = "0" }),
        // DATAS keeps gen 0 small (about 2.5 MB between collections on these 2 cores), so a read of 550 KB meets a
        // collection every few reads, each pausing every thread. Only the environment variable sets the smallest budget:
        // the runtime reads no runtimeconfig.json name for it (tried).
        new("datas_gen0_32mb", "server GC, DATAS on, gen 0 budget at least 32 MiB", new Dictionary<string, string> { ["DOTNET_GCgen0size"] = "0x2000000" }),
        new("datas_gen0_64mb", "server GC, DATAS on, gen 0 budget at least 64 MiB", new Dictionary<string, string> { ["DOTNET_GCgen0size"] = "0x4000000" }),
        // Not the GC either: what the data-quality sampler, and the validator it loads, add to the working set.
        new("datas_no_sampler", "server GC, DATAS on, Validation:SampleShare 0 (profiles still loaded at start-up)", new Dictionary<string, string>(), new Dictionary<string, string?> { ["Validation:SampleShare"] = "0" }),
        new("datas_no_validator", "server GC, DATAS on, Validation:SampleShare 0 and WarmUp false (the validator never loaded)", new Dictionary<string, string>(), new Dictionary<string, string?> { ["Validation:SampleShare"] = "0", ["Validation:WarmUp"] = "false" }),
        new("datas_budget_48mb", "server GC, DATAS on, Federation:MaxBufferedSourceBytes 48 MiB", new Dictionary<string, string>(), new Dictionary<string, string?> { ["Federation:MaxBufferedSourceBytes"] = (48 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture) }),
    ];

    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(3);

    public static async Task<Dictionary<string, double>> RunAsync(BenchPlan plan, BenchResults results)
    {
        await using var sources = await BenchSources.StartAsync(3, TimeSpan.Zero);
        var modes = Modes.Where(m => plan.GcModes is null || plan.GcModes.Contains(m.Name)).ToList();
        var runs = modes.ToDictionary(m => m.Name, _ => new List<GcRun>());
        // Forward then backward (ABCDE EDCBA): drift in the shared machine over the run falls on every mode alike.
        for (var cycle = 0; cycle < BenchPlan.GcCycles; cycle++)
        {
            foreach (var mode in cycle % 2 == 0 ? modes : Enumerable.Reverse(modes))
            {
                var run = await RunOnceAsync(plan, results, sources, mode);
                runs[mode.Name].Add(run);
                results.Log(run.Died
                    ? $"gc {mode.Name} (cycle {cycle + 1}): the gateway died: {run.Why}"
                    : $"gc {mode.Name} (cycle {cycle + 1}): {run.PerSecond:0} reads/s, p99 {run.P99:0} ms, {run.CpuMsPerRead:0.00} ms CPU per read, {run.CollectionsPer100Reads:0.0} collections per 100 reads, paused {run.PausedPercent:0.0} % of the time, working set {run.StartedMb:0} MB started, peak {run.PeakMb:0} MB ({run.AfterCollectMb:0} MB after a forced GC), {run.Failures} failed; {run.Why}");
            }
        }

        var figures = new Dictionary<string, double> { ["gc_mode_seconds"] = plan.GcModeDuration.TotalSeconds, ["gc_mode_cycles"] = BenchPlan.GcCycles };
        foreach (var mode in modes)
        {
            // Rates and p99 are the mean over the cycles; the peak is the highest seen; any death fails the mode.
            var all = runs[mode.Name];
            var died = all.Any(r => r.Died);
            figures[$"gc_{mode.Name}_reads_per_s"] = died ? 0 : all.Average(r => r.PerSecond);
            figures[$"gc_{mode.Name}_p99_ms"] = died ? 0 : all.Average(r => r.P99);
            figures[$"gc_{mode.Name}_peak_working_set_mb"] = died ? 0 : all.Max(r => r.PeakMb);
            figures[$"gc_{mode.Name}_started_working_set_mb"] = died ? 0 : all.Average(r => r.StartedMb);
            figures[$"gc_{mode.Name}_failures"] = died ? 0 : all.Sum(r => r.Failures);
            figures[$"gc_{mode.Name}_cpu_ms_per_read"] = died ? 0 : all.Average(r => r.CpuMsPerRead);
            figures[$"gc_{mode.Name}_collections_per_100_reads"] = died ? 0 : all.Average(r => r.CollectionsPer100Reads);
            figures[$"gc_{mode.Name}_paused_pct"] = died ? 0 : all.Average(r => r.PausedPercent);
            if (died)
            {
                figures[$"gc_{mode.Name}_died"] = 1;
            }
        }

        return figures;
    }

    private static async Task<GcRun> RunOnceAsync(BenchPlan plan, BenchResults results, BenchSources sources, GcMode mode)
    {
        OutOfProcessGateway gateway;
        try
        {
            gateway = await OutOfProcessGateway.StartAsync(sources.Members, mode.Settings is null ? null : new Dictionary<string, string?>(mode.Settings), new Dictionary<string, string>(mode.Environment));
        }
        catch (InvalidOperationException ex)
        {
            return GcRun.Dead(LastLine(ex.Message));
        }

        await using (gateway)
        {
            try
            {
                var info = await gateway.GcInfoAsync();
                using var client = await gateway.ClientAsync();
                await gateway.WaitUntilQuietAsync();
                var startedMb = gateway.WorkingSetMb();
                await using var sampler = WorkingSetSampler.Start(gateway.WorkingSetMb);
                await LoadDriver.RunAsync(client, _ => Scenarios.Read(sources), BenchPlan.Clients, Warmup);
                await gateway.WaitUntilQuietAsync();
                var cpuBefore = await gateway.CpuMsAsync();
                var gcBefore = await gateway.GcCountAsync();
                var load = await LoadDriver.RunAsync(client, _ => Scenarios.Read(sources), BenchPlan.Clients, plan.GcModeDuration);
                var gc = await gateway.GcCountAsync() - gcBefore;
                var cpuPerRead = (await gateway.CpuMsAsync() - cpuBefore) / Math.Max(1, load.Requests);
                await sampler.StopAsync();
                if (gateway.HasExited)
                {
                    return GcRun.Dead($"exited with code {gateway.ExitCode} under load; {LastLine(gateway.Stderr())}");
                }

                await gateway.CollectAsync();
                return new GcRun(false, load.PerSecond, Stats.Percentile(load.LatenciesMs, 99), sampler.Peak, load.Failures, gateway.WorkingSetMb(), info)
                {
                    CpuMsPerRead = cpuPerRead,
                    StartedMb = startedMb,
                    CollectionsPer100Reads = 100.0 * gc.Collections / Math.Max(1, load.Requests),
                    PausedPercent = 100 * gc.PauseMs / plan.GcModeDuration.TotalMilliseconds,
                };
            }
            catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or IOException)
            {
                // A gateway out of memory ends mid-run: that is this mode's result, not the harness's failure.
                results.Log($"gc {mode.Name}: {ex.GetType().Name}: {LastLine(ex.Message)}");
                return GcRun.Dead(gateway.HasExited ? $"exited with code {gateway.ExitCode}; {LastLine(gateway.Stderr())}" : LastLine(ex.Message));
            }
        }
    }

    /// <summary>The line of a child's stderr that says most: the exception it died of when there is one, else its last.</summary>
    private static string LastLine(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.FirstOrDefault(l => l.Contains("OutOfMemory", StringComparison.Ordinal)) ?? lines.LastOrDefault() ?? "";
    }

    private sealed record GcRun(bool Died, double PerSecond, double P99, double PeakMb, int Failures, double AfterCollectMb, string Why)
    {
        public double CpuMsPerRead { get; init; }

        /// <summary>The working set once started and quiet, before the first read.</summary>
        public double StartedMb { get; init; }

        public double CollectionsPer100Reads { get; init; }

        /// <summary>Share of the run's wall time the gateway's threads were paused for collections.</summary>
        public double PausedPercent { get; init; }

        public static GcRun Dead(string why) => new(true, 0, 0, 0, 0, 0, why);
    }
}
