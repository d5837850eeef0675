using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace WirralCareRecord.Benchmarks;

/// <summary>
/// The merge cost under BenchmarkDotNet, in this process (its in-process toolchain) so both sides share the same warm
/// SDK and recorded answers: the gateway's merge against the SDK parsing and serialising the same bytes (the baseline).
/// </summary>
[MemoryDiagnoser]
public class MergeBenchmarks
{
    private static MergeFixture? s_fixture;

    [Benchmark(Baseline = true)]
    public int SdkParseSerialise() => Fixture.SdkOnly();

    [Benchmark]
    public int GatewayMerge() => Fixture.GatewayAsync().GetAwaiter().GetResult();

    private static MergeFixture Fixture => s_fixture ?? throw new InvalidOperationException("MergeBenchmarks.Run sets the fixture first.");

    /// <summary>Runs both benchmarks on <paramref name="fixture"/>; returns medians (ms), allocations (KB) and their ratio.</summary>
    internal static Dictionary<string, double> Run(MergeFixture fixture, bool quick)
    {
        s_fixture = fixture;
        var job = (quick ? Job.ShortRun : Job.MediumRun).WithToolchain(InProcessEmitToolchain.Instance).WithId(quick ? "quick" : "full");
        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddLogger(NullLogger.Instance)
            .WithArtifactsPath(Path.Combine(Path.GetTempPath(), "wcr-benchmarkdotnet"));
        var summary = BenchmarkRunner.Run<MergeBenchmarks>(config);
        double Median(string method) => Report(method).ResultStatistics?.Median / 1e6
            ?? throw new InvalidOperationException($"BenchmarkDotNet measured nothing for {method}.");
        double Kb(string method) => (Report(method).GcStats.GetBytesAllocatedPerOperation(Report(method).BenchmarkCase) ?? 0) / 1024.0;
        BenchmarkDotNet.Reports.BenchmarkReport Report(string method) =>
            summary.Reports.Single(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method);

        return new Dictionary<string, double>
        {
            ["merge_bdn_gateway_ms"] = Median(nameof(GatewayMerge)),
            ["merge_bdn_sdk_ms"] = Median(nameof(SdkParseSerialise)),
            ["merge_bdn_ratio"] = Median(nameof(GatewayMerge)) / Median(nameof(SdkParseSerialise)),
            ["merge_bdn_gateway_kb"] = Kb(nameof(GatewayMerge)),
            ["merge_bdn_sdk_kb"] = Kb(nameof(SdkParseSerialise)),
        };
    }
}
