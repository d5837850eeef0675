using System.Net;
using System.Net.Sockets;

namespace WirralCareRecord.Gateway.Tests.Common;

/// <summary>
/// A loopback TCP forwarder put between the gateway and a server (Azurite), so a test can take the server away and
/// give it back without restarting either: <see cref="Cut"/> resets every open connection and every new one until
/// <see cref="Restore"/>, as a network outage or a storage front end refusing traffic would.
/// </summary>
public sealed class TcpForwarder : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly int _targetPort;
    private readonly Lock _gate = new();
    private readonly List<TcpClient> _open = [];
    private volatile bool _cut;

    public TcpForwarder(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        _ = Task.Run(AcceptLoopAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections forwarded so far, refused ones not counted.</summary>
    public int Forwarded { get; private set; }

    public void Cut()
    {
        _cut = true;
        List<TcpClient> open;
        lock (_gate)
        {
            open = [.. _open];
            _open.Clear();
        }

        foreach (var client in open)
        {
            Reset(client);
        }
    }

    public void Restore() => _cut = false;

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            if (_cut)
            {
                Reset(inbound);
                continue;
            }

            _ = Task.Run(() => PipeAsync(inbound));
        }
    }

    private async Task PipeAsync(TcpClient inbound)
    {
        var outbound = new TcpClient();
        try
        {
            await outbound.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
            lock (_gate)
            {
                _open.Add(inbound);
                _open.Add(outbound);
                Forwarded++;
            }

            using var either = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            var up = inbound.GetStream().CopyToAsync(outbound.GetStream(), either.Token);
            var down = outbound.GetStream().CopyToAsync(inbound.GetStream(), either.Token);
            await Task.WhenAny(up, down);
            await either.CancelAsync();
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Cut, or one side closed: the other side is closed below.
        }
        finally
        {
            lock (_gate)
            {
                _open.Remove(inbound);
                _open.Remove(outbound);
            }

            Reset(inbound);
            Reset(outbound);
        }
    }

    /// <summary>Closes with a reset rather than a graceful close, as a dropped connection looks to the client.</summary>
    private static void Reset(TcpClient client)
    {
        try
        {
            // A client already closed has no socket left.
            if (client.Client is { } socket)
            {
                socket.LingerState = new LingerOption(true, 0);
            }

            client.Close();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        Cut();
        _stop.Dispose();
    }
}
