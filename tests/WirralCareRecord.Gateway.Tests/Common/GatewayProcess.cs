using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace WirralCareRecord.Gateway.Tests.Common;

/// <summary>
/// The built gateway (<c>dotnet WirralCareRecord.Gateway.dll</c>) as its own OS process on 127.0.0.1, configured only by
/// environment variables as an operator would, so a test can kill it outright. Development environment: sign-in is the
/// gateway's development issuer (<c>/dev/token</c>, real RS256 tokens it validates itself), because the test issuer is
/// trusted over plain http only through test-server service overrides, which cannot reach another process.
/// </summary>
public sealed class GatewayProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private GatewayProcess(Process process, int port)
    {
        _process = process;
        Url = $"http://127.0.0.1:{port}";
    }

    public string Url { get; }

    public int Id => _process.Id;

    /// <summary>What the gateway wrote to stdout and stderr (its application logs), for a failing test's message.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the gateway with these settings (<c>Section:Key</c> names) and waits until it answers.</summary>
    public static async Task<GatewayProcess> StartAsync(IReadOnlyDictionary<string, string?> settings)
    {
        var dll = FindGateway();
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll, "--urls", $"http://127.0.0.1:{port}" },
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the gateway process.");
        var gateway = new GatewayProcess(process, port);
        process.OutputDataReceived += (_, e) => gateway.Append(e.Data);
        process.ErrorDataReceived += (_, e) => gateway.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await gateway.WaitUntilLiveAsync();
        }
        catch
        {
            gateway.Dispose();
            throw;
        }

        return gateway;
    }

    /// <summary>A client of this gateway signed in with a development token for the role, organisation and user.</summary>
    public async Task<HttpClient> ClientAsync(string role = "Clinician", string ods = "N85001", string user = "clinician-1")
    {
        var client = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(30) };
        var token = await client.GetStringAsync($"/dev/token?role={role}&ods={ods}&user={user}&format=jwt");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Trim());
        return client;
    }

    /// <summary>SIGKILL: no shutdown, no draining, no flushing; whatever the process was doing stops mid-way.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private async Task WaitUntilLiveAsync()
    {
        using var probe = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The gateway exited with code {_process.ExitCode} before answering:\n{Output}");
            }

            try
            {
                if ((await probe.GetAsync("/health/live")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"The gateway did not answer /health/live within 90 s:\n{Output}");
    }

    /// <summary>
    /// The gateway as built beside these tests: <c>src/WirralCareRecord.Gateway/bin/{configuration}/{framework}/</c>, which
    /// holds its runtimeconfig, deps and content (profiles, conformance, wwwroot); the copy in the test folder has none of those.
    /// </summary>
    private static string FindGateway()
    {
        var testFolder = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = testFolder.Name;
        var configuration = testFolder.Parent!.Name;
        for (var folder = testFolder; folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "WirralCareRecord.sln")))
            {
                var dll = Path.Combine(folder.FullName, "src", "WirralCareRecord.Gateway", "bin", configuration, framework, "WirralCareRecord.Gateway.dll");
                return File.Exists(dll) ? dll : throw new FileNotFoundException($"The gateway is not built at {dll}; build the solution first.");
            }
        }

        throw new DirectoryNotFoundException("WirralCareRecord.sln was not found above the test folder.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Kill();
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
    }
}
