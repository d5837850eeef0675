using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Azure.Storage.Blobs;

namespace WirralCareRecord.Gateway.Tests.Common;

/// <summary>
/// One Azurite blob service for the whole test run (installed by <c>npm ci</c> at the repository root), on 127.0.0.1 at a
/// free port, in memory, with telemetry off so it never reaches for the internet. Tests isolate themselves with their own
/// container prefix rather than their own Azurite.
/// </summary>
public sealed class Azurite
{
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private static readonly Lazy<Task<Azurite>> Shared = new(StartAsync);
    private readonly Process _process;

    private Azurite(Process process, int port)
    {
        _process = process;
        Port = port;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop();
    }

    public int Port { get; }

    public string ConnectionString => ConnectionStringVia(Port);

    /// <summary>The account reached through another port, such as a <see cref="TcpForwarder"/> in front of this Azurite.</summary>
    public static string ConnectionStringVia(int port) =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";

    /// <summary>The run's Azurite, started on first use.</summary>
    public static Task<Azurite> InstanceAsync() => Shared.Value;

    /// <summary>A container prefix no other test uses.</summary>
    public static string NewPrefix() => "t" + Guid.NewGuid().ToString("N")[..12] + "-";

    /// <summary>Gateway settings that put every container in this Azurite under a fresh prefix.</summary>
    /// <param name="viaPort">A port in front of this Azurite (a <see cref="TcpForwarder"/>) for the gateway to use instead of its own.</param>
    public Dictionary<string, string?> GatewaySettings(string? prefix = null, int? viaPort = null) => new()
    {
        ["Storage:Kind"] = "AzureBlob",
        ["Storage:BlobConnectionString"] = ConnectionStringVia(viaPort ?? Port),
        ["Storage:ContainerPrefix"] = prefix ?? NewPrefix(),
    };

    public BlobServiceClient Client() => new(ConnectionString);

    /// <summary>Stops the service (to test storage outages); it does not come back in this run.</summary>
    public void Stop()
    {
        try
        {
            if (!_process.HasExited)
            {
                // A frozen process is killed all the same; thawing first lets it go at once.
                Signal("CONT");
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>
    /// Freezes the service (SIGSTOP) until <see cref="Thaw"/>: its port still accepts connections, but nothing is
    /// answered, as a hung storage front end behaves. Only for a private Azurite.
    /// </summary>
    public void Freeze() => Signal("STOP");

    public void Thaw() => Signal("CONT");

    private void Signal(string signal)
    {
        // azurite-blob is node itself (a script with a shebang, not a shell wrapper), so its process id is the server's.
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) }, UseShellExecute = false })
            ?? throw new InvalidOperationException("Could not run kill.");
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {_process.Id} failed with exit code {kill.ExitCode}.");
        }
    }

    /// <summary>A separate Azurite for a test that stops it; the caller must <see cref="Stop"/> it.</summary>
    public static Task<Azurite> StartPrivateAsync() => StartAsync();

    private static async Task<Azurite> StartAsync()
    {
        var executable = FindExecutable();
        var port = FreePort();
        var start = new ProcessStartInfo(executable)
        {
            ArgumentList = { "--disableTelemetry", "--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--blobHost", "127.0.0.1", "--blobPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {executable}.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"Azurite exited with code {process.ExitCode} before listening on port {port}.");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return new Azurite(process, port);
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        process.Kill(entireProcessTree: true);
        throw new TimeoutException($"Azurite did not listen on port {port} within 60 s.");
    }

    private static string FindExecutable()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, "node_modules", ".bin", "azurite-blob");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("azurite-blob was not found in any node_modules above the test folder; run 'npm ci' at the repository root.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
