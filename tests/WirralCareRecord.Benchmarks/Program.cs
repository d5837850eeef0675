using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using WirralCareRecord.Benchmarks;

// First, before anything else runs in the process: started as its own out-of-process gateway, it is nothing else.
if (args is [OutOfProcessGateway.ServeFlag, var spec])
{
    return await OutOfProcessGateway.ServeAsync(spec);
}

// dotnet run -c Release --project tests/WirralCareRecord.Benchmarks -- [--quick] [--only fanout,merge,proxy,throughput,smallrecord,gcmodes,audit,report,validation,sampling,locator,memory] [--gc-modes datas,datas_off,...] [--gc-events] [--out folder] [--keep]
var quick = args.Contains("--quick");
// Counts the in-process gateway's collections by reason and its allocations outside gen 0 (the proxy scenario logs them).
using var gcEvents = args.Contains("--gc-events") ? GcEvents.Instance = new GcEvents() : null;
var only = Option("--only")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
var output = Option("--out") ?? Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "results");
var plan = new BenchPlan(quick) { GcModes = Option("--gc-modes")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) };
var results = new BenchResults();
if (args.Contains("--keep"))
{
    await results.KeepAsync(Path.GetFullPath(output));
}

var missing = new List<string>();
results.Figures["cores"] = Environment.ProcessorCount;
results.Log($"Wirral Care Record benchmarks, {(quick ? "quick" : "full")} mode, {Environment.ProcessorCount} cores, server GC {System.Runtime.GCSettings.IsServerGC}");

// Merge cost first, while nothing else in the process is running.
await Run("merge", () => MergeCost.RunAsync(plan, results));
await Run("fanout", () => Scenarios.FanoutAsync(plan, results));
await Run("proxy", () => Scenarios.ProxyAsync(plan, results));
await Run("throughput", () => Scenarios.ThroughputAsync(plan, results));
await Run("gcmodes", () => GcModes.RunAsync(plan, results));
// Part of throughput; on its own only when asked for by name.
if (only?.Contains("smallrecord") == true)
{
    await Run("smallrecord", () => Scenarios.SmallRecordAsync(plan, results));
}

await Run("audit", () => Scenarios.AuditAsync(plan, results, ""));
await Run("audit", AzuriteAuditAsync);
await Run("report", () => ReportBench.RunAsync(plan, results));
await Run("validation", () => ValidationBench.RunAsync(plan, results));
await Run("sampling", () => SamplingBench.RunAsync(plan, results));
await Run("locator", () => LocatorBench.RunAsync(plan, results));
// Last: its figures are growth from a baseline it takes itself, after a full collection.
await Run("memory", () => RouteMemory.RunAsync(plan, results));
using (var self = Process.GetCurrentProcess())
{
    results.Figures["process_peak_working_set_mb"] = Math.Round(self.PeakWorkingSet64 / 1048576.0, 1);
}

await results.WriteAsync(Path.GetFullPath(output), quick, missing);
Console.WriteLine($"Results written to {Path.GetFullPath(output)}");
return 0;

async Task Run(string name, Func<Task<Dictionary<string, double>>> scenario)
{
    if (only is not null && !only.Contains(name))
    {
        return;
    }

    var clock = Stopwatch.StartNew();
    try
    {
        results.Add(await scenario());
    }
    catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or IOException or AggregateException or Azure.RequestFailedException)
    {
        results.Log($"{name} failed: {ex.Message}");
        missing.Add($"{name} ({ex.GetType().Name}: {ex.Message})");
    }

    results.Log($"  ({name} took {clock.Elapsed.TotalSeconds:0} s)");
}

string? Option(string name)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}

// The same appends against Azurite, when the repository's npm packages are installed (the first build installs them).
async Task<Dictionary<string, double>> AzuriteAuditAsync()
{
    var root = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."));
    var azurite = Path.Combine(root, "node_modules", ".bin", "azurite-blob");
    if (!File.Exists(azurite))
    {
        missing.Add("audit on Azurite (node_modules/.bin/azurite-blob not installed)");
        return [];
    }

    int port;
    using (var probe = new TcpListener(IPAddress.Loopback, 0))
    {
        probe.Start();
        port = ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    using var process = Process.Start(new ProcessStartInfo(azurite, $"--disableTelemetry --inMemoryPersistence --blobHost 127.0.0.1 --blobPort {port} --skipApiVersionCheck --silent")
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
    })!;
    try
    {
        for (var i = 0; i < 300; i++)
        {
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(IPAddress.Loopback, port);
                break;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        const string account = "devstoreaccount1";
        const string key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
        return await Scenarios.AuditAsync(plan, results, "_azurite", new Dictionary<string, string?>
        {
            ["Storage:Kind"] = "AzureBlob",
            ["Storage:BlobConnectionString"] = $"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={key};BlobEndpoint=http://127.0.0.1:{port}/{account};",
        });
    }
    finally
    {
        process.Kill(entireProcessTree: true);
    }
}
