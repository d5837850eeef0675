using System.Diagnostics;
using WirralCareRecord.Gateway.Federation;

namespace WirralCareRecord.Benchmarks;

/// <summary>
/// CPU time of the gateway's own work on a 3-source record (parse, match, filter, merge, serialise; its real
/// <see cref="FhirSourceClient"/> and <see cref="RecordBundleBuilder"/>, fed the sources' recorded answers from memory)
/// against only parsing and serialising the same bytes with the Firely SDK (<see cref="MergeFixture"/>). Same process,
/// one thread, nothing else running; alternating rounds, median of the per-round ratios. Then the same two under
/// BenchmarkDotNet (<see cref="MergeBenchmarks"/>), for its wall-clock medians and allocations per record.
/// </summary>
internal static class MergeCost
{
    public static async Task<Dictionary<string, double>> RunAsync(BenchPlan plan, BenchResults results)
    {
        await using var fixture = await MergeFixture.StartAsync();
        var iterations = plan.Quick ? 40 : 150;
        for (var i = 0; i < 20; i++)
        {
            await fixture.GatewayAsync();
            fixture.SdkOnly();
        }

        var ratios = new List<double>();
        var gatewayMs = new List<double>();
        var sdkMs = new List<double>();
        for (var round = 0; round < (plan.Quick ? 5 : 9); round++)
        {
            var g = await CpuAsync(fixture.GatewayAsync, iterations);
            var s = await CpuAsync(() => Task.FromResult(fixture.SdkOnly()), iterations);
            ratios.Add(g / s);
            gatewayMs.Add(g);
            sdkMs.Add(s);
        }

        // Where the gateway's bytes go, from the runtime's allocation sampling over a further 100 records.
        using (var sampling = new AllocationSampling())
        {
            for (var i = 0; i < 100; i++)
            {
                await fixture.GatewayAsync();
            }

            results.Log($"merge allocations by type (sampled over 100 records): {sampling.Top(8)}");
        }

        results.Log($"merge cost: gateway {Stats.Median(gatewayMs):0.00} ms CPU per 3-source record, SDK parse+serialise {Stats.Median(sdkMs):0.00} ms; ratio {Stats.Median(ratios):0.00} (rounds: {string.Join(", ", ratios.Select(r => r.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)))}); {fixture.Bodies.Count} answer(s) per source, {fixture.ResourcesPerSource} resources per source, merged bundle {fixture.MergedBytes / 1024} KB");
        var figures = new Dictionary<string, double>
        {
            ["merge_cpu_ratio"] = Stats.Median(ratios),
            ["merge_cpu_ms_per_record"] = Stats.Median(gatewayMs),
            ["parse_serialise_cpu_ms_per_record"] = Stats.Median(sdkMs),
        };
        foreach (var (key, value) in MergeBenchmarks.Run(fixture, plan.Quick))
        {
            figures[key] = value;
        }

        results.Log($"merge cost (BenchmarkDotNet, in process): gateway {figures["merge_bdn_gateway_ms"]:0.00} ms, SDK {figures["merge_bdn_sdk_ms"]:0.00} ms per record (medians); ratio {figures["merge_bdn_ratio"]:0.00}; allocated {figures["merge_bdn_gateway_kb"]:0} KB vs {figures["merge_bdn_sdk_kb"]:0} KB per record");
        return figures;
    }

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
}
