using System.Net;
using System.Net.Sockets;
using System.Text;

namespace WirralCareRecord.Gateway.Tests.Resilience;

/// <summary>
/// A source that speaks raw HTTP/1.1 over a socket, for faults no HTTP server library will commit on purpose: a body cut
/// off mid-way, bytes trickled one at a time, an answer far larger than any record.
/// </summary>
public sealed class RawSource : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();

    public RawSource(Func<Stream, CancellationToken, Task> answer)
    {
        _listener.Start();
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }

                _ = Task.Run(async () =>
                {
                    using (client)
                    {
                        try
                        {
                            var stream = client.GetStream();
                            await ReadRequestHeadAsync(stream, _stop.Token);
                            await answer(stream, _stop.Token);
                        }
                        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
                        {
                            // The gateway gave up on this answer, as it should.
                        }
                    }
                });
            }
        });
    }

    public string BaseUrl => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/fhir";

    public static byte[] Head(int contentLength, string contentType = "application/fhir+json") =>
        Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: {contentType}\r\nContent-Length: {contentLength}\r\nConnection: close\r\n\r\n");

    private static async Task ReadRequestHeadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var seen = new List<byte>();
        var one = new byte[1];
        while (await stream.ReadAsync(one, cancellationToken) == 1)
        {
            seen.Add(one[0]);
            if (seen.Count >= 4 && seen[^4] == '\r' && seen[^3] == '\n' && seen[^2] == '\r' && seen[^1] == '\n')
            {
                return;
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }
}
