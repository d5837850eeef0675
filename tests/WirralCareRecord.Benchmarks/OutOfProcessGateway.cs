using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime;
using System.Text.Json;
using WirralCareRecord.Gateway.SourceAnswers;

namespace WirralCareRecord.Benchmarks;

/// <summary>What the child process is told to serve: the registry's sources and the gateway's extra settings.</summary>
internal sealed record GatewaySpec(IReadOnlyList<BenchSource> Sources, Dictionary<string, string?>? Settings);

/// <summary>
/// The real gateway (<see cref="BenchGateway"/>) in a child process of this same executable, so that its working set,
/// allocations and CPU are its own and not shared with the sources and load driver, and so that it can be started
/// under GC settings (environment variables) that only take effect when a process starts.
/// The child speaks a line protocol: it writes <c>READY &lt;baseUrl&gt;</c> once, then answers <c>alloc</c>, <c>cpu</c>,
/// <c>gc</c>, <c>gcinfo</c> and <c>quit</c> read from its stdin.
/// </summary>
internal sealed class OutOfProcessGateway : IAsyncDisposable
{
    public const string ServeFlag = "--serve-gateway";

    private const int StderrLinesKept = 200;

    private readonly Process _process;
    private readonly string _specPath;
    private readonly Queue<string> _stderr;
    private readonly SemaphoreSlim _command = new(1, 1);

    private OutOfProcessGateway(Process process, string specPath, Queue<string> stderr)
    {
        _process = process;
        _specPath = specPath;
        _stderr = stderr;
    }

    public string BaseUrl { get; private set; } = "";

    public bool HasExited => _process.HasExited;

    /// <summary>Only once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.ExitCode;

    public static async Task<OutOfProcessGateway> StartAsync(IReadOnlyList<BenchSource> sources, IDictionary<string, string?>? settings = null, IDictionary<string, string>? environment = null)
    {
        var specPath = Path.Combine(Path.GetTempPath(), $"wcr-bench-gateway-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(specPath, JsonSerializer.Serialize(new GatewaySpec(sources, settings is null ? null : new Dictionary<string, string?>(settings))));
        var start = StartInfo(specPath);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var stderr = new Queue<string>();
        var process = new Process { StartInfo = start };
        // Drained all the time: a child whose stderr pipe filled (warnings under load) would block mid-request.
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (stderr)
            {
                stderr.Enqueue(e.Data);
                if (stderr.Count > StderrLinesKept)
                {
                    stderr.Dequeue();
                }
            }
        };
        process.Start();
        process.BeginErrorReadLine();
        var gateway = new OutOfProcessGateway(process, specPath, stderr);
        try
        {
            gateway.BaseUrl = await gateway.ReadReadyAsync();
            await BenchGateway.WaitUntilQuietAsync(process);
            return gateway;
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }
    }

    /// <summary>The apphost when there is one; under the <c>dotnet</c> host, the host again with this entry assembly.</summary>
    private static ProcessStartInfo StartInfo(string specPath)
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("No process path to start the gateway from.");
        var start = new ProcessStartInfo
        {
            FileName = host,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add(Assembly.GetEntryAssembly()?.Location ?? throw new InvalidOperationException("No entry assembly to start the gateway from."));
        }

        start.ArgumentList.Add(ServeFlag);
        start.ArgumentList.Add(specPath);
        return start;
    }

    private async Task<string> ReadReadyAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            while (await _process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.StartsWith("READY ", StringComparison.Ordinal))
                {
                    return line["READY ".Length..].Trim();
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new InvalidOperationException($"The out-of-process gateway was not ready within 3 minutes. Its stderr:\n{Stderr()}");
        }

        // stdout closed before READY: the child has ended; give it a moment so its last stderr lines are in.
        await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        throw new InvalidOperationException($"The out-of-process gateway ended before it was ready. Its stderr:\n{Stderr()}");
    }

    public string Stderr()
    {
        lock (_stderr)
        {
            return string.Join('\n', _stderr);
        }
    }

    public Task<HttpClient> ClientAsync(string role = "Clinician", int maxConnections = 256) => BenchGateway.SignedInClientAsync(BaseUrl, role, maxConnections);

    public Task WaitUntilQuietAsync() => BenchGateway.WaitUntilQuietAsync(_process);

    public double WorkingSetMb()
    {
        _process.Refresh();
        return _process.WorkingSet64 / 1048576.0;
    }

    public double PeakWorkingSetMb()
    {
        _process.Refresh();
        return _process.PeakWorkingSet64 / 1048576.0;
    }

    public async Task<long> AllocatedBytesAsync() => long.Parse(await CommandAsync("alloc"), CultureInfo.InvariantCulture);

    /// <summary>Collections so far (of any generation: each counts as gen 0 too) and the time threads were paused for them.</summary>
    public async Task<GcCount> GcCountAsync()
    {
        var parts = (await CommandAsync("gcs")).Split(' ');
        return new GcCount(long.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    public async Task<double> CpuMsAsync() => double.Parse(await CommandAsync("cpu"), CultureInfo.InvariantCulture);

    /// <summary>A full, blocking, compacting collection in the gateway's process.</summary>
    public Task CollectAsync() => CommandAsync("gc");

    /// <summary>The GC the child runs under, as it reports it (server or workstation, DATAS, hard limit): proof that the environment took.</summary>
    public Task<string> GcInfoAsync() => CommandAsync("gcinfo");

    /// <summary>The child's managed heap, committed memory and fragmentation after its last collection, in words for the log.</summary>
    public Task<string> HeapAsync() => CommandAsync("heap");

    private async Task<string> CommandAsync(string command)
    {
        await _command.WaitAsync();
        try
        {
            await _process.StandardInput.WriteLineAsync(command);
            await _process.StandardInput.FlushAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            return await _process.StandardOutput.ReadLineAsync(timeout.Token)
                ?? throw new InvalidOperationException($"The out-of-process gateway ended before answering '{command}'. Its stderr:\n{Stderr()}");
        }
        catch (OperationCanceledException)
        {
            throw new InvalidOperationException($"The out-of-process gateway did not answer '{command}' within a minute. Its stderr:\n{Stderr()}");
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException($"The out-of-process gateway could not be asked '{command}' ({ex.Message}). Its stderr:\n{Stderr()}", ex);
        }
        finally
        {
            _command.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                try
                {
                    await _process.StandardInput.WriteLineAsync("quit");
                    await _process.StandardInput.FlushAsync();
                }
                catch (IOException)
                {
                    // The child is already going; the kill below makes sure.
                }

                await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        finally
        {
            // Never leave a gateway running behind the harness, whatever went wrong above.
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already exited.
            }

            _process.Dispose();
            _command.Dispose();
            File.Delete(_specPath);
        }
    }

    /// <summary>
    /// The child's side: serves the gateway described in <paramref name="specPath"/> until told to quit or until its
    /// stdin closes (the parent has gone, so nobody is left to stop it).
    /// </summary>
    public static async Task<int> ServeAsync(string specPath)
    {
        // stdout carries the protocol alone: everything else the process writes (the gateway's warnings) goes to stderr,
        // which the parent keeps for its error messages.
        var protocol = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
        Console.SetOut(Console.Error);
        var spec = JsonSerializer.Deserialize<GatewaySpec>(await File.ReadAllTextAsync(specPath))
            ?? throw new InvalidOperationException($"No gateway described in {specPath}.");
        // Listening before the server starts, so the pool's first blocks are counted.
        using var serverPool = new ServerPoolMeter();
        await using var gateway = await BenchGateway.StartAsync(spec.Sources, spec.Settings);
        var pinned = new PinnedOwners(gateway.Services.GetRequiredService<SourceBufferPool>(), serverPool);
        await protocol.WriteLineAsync($"READY {gateway.BaseUrl}");
        using var input = new StreamReader(Console.OpenStandardInput());
        while (await input.ReadLineAsync() is { } command && command.Trim() != "quit")
        {
            await protocol.WriteLineAsync(Answer(command.Trim(), pinned));
        }

        await protocol.DisposeAsync();
        return 0;
    }

    /// <summary>On Linux, the working set split into anonymous memory (heaps, stacks, JIT) and mapped files (the binaries).</summary>
    private static string ResidentKinds()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status))
        {
            return "";
        }

        var wanted = new[] { "RssAnon", "RssFile", "RssShmem" };
        var found = File.ReadLines(status).Where(l => wanted.Any(w => l.StartsWith(w + ":", StringComparison.Ordinal)))
            .Select(l => l.Split(':', 2)).Select(p => $"{p[0]}={long.Parse(p[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024}MB");
        return " " + string.Join(' ', found);
    }

    private static string Answer(string command, PinnedOwners pinned)
    {
        switch (command)
        {
            case "alloc":
                return GC.GetTotalAllocatedBytes(false).ToString(CultureInfo.InvariantCulture);
            case "gcs":
                return string.Create(CultureInfo.InvariantCulture, $"{GC.CollectionCount(0)} {GC.GetTotalPauseDuration().TotalMilliseconds:R}");
            case "cpu":
                using (var self = Process.GetCurrentProcess())
                {
                    return self.TotalProcessorTime.TotalMilliseconds.ToString("R", CultureInfo.InvariantCulture);
                }

            case "gc":
                GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
                GC.WaitForPendingFinalizers();
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
                return "ok";
            case "heap":
                // Managed heap against what the GC has committed: the gap is what the working set holds beyond live data.
                var info = GC.GetGCMemoryInfo(GCKind.Any);
                return string.Join(' ', new (string Name, long Bytes)[]
                {
                    ("heap", info.HeapSizeBytes), ("committed", info.TotalCommittedBytes), ("fragmented", info.FragmentedBytes),
                    ("loh", info.GenerationInfo[3].SizeAfterBytes), ("poh", info.GenerationInfo[4].SizeAfterBytes),
                }.Select(p => $"{p.Name}={p.Bytes / 1048576.0:0}MB")) + ResidentKinds() + pinned.Describe();
            case "gcinfo":
                var config = GC.GetConfigurationVariables();
                return string.Join(' ', new[] { "ServerGC", "GCDynamicAdaptationMode", "GCHeapHardLimit" }
                    .Select(k => $"{k}={(config.TryGetValue(k, out var v) ? v : "-")}"));
            default:
                return $"unknown command '{command}'";
        }
    }
}

/// <summary>What of the pinned object heap is whose: the gateway's source buffers and Kestrel's blocks.</summary>
internal sealed record PinnedOwners(SourceBufferPool Sources, ServerPoolMeter Server)
{
    public string Describe() => string.Create(
        CultureInfo.InvariantCulture,
        $" sourcepool={(Sources.RetainedBytes + Sources.HeldBytes) / 1048576.0:0}MB {Server.Describe()}");
}

/// <summary>A gateway process's collections and the time its threads were paused for them, so far.</summary>
internal readonly record struct GcCount(long Collections, double PauseMs)
{
    public static GcCount operator -(GcCount after, GcCount before) => new(after.Collections - before.Collections, after.PauseMs - before.PauseMs);
}
