using System.Diagnostics.Metrics;
using System.Globalization;

namespace WirralCareRecord.Benchmarks;

/// <summary>
/// Kestrel's pinned block pool as its own metrics (ASP.NET Core 10's <c>Microsoft.AspNetCore.MemoryPool</c> meter) tell
/// it: blocks allocated and not evicted are on the pinned object heap, in use or free for reuse. Beside the gateway's
/// source buffer pool it says whose the pinned object heap is, which the GC's figures alone cannot.
/// </summary>
internal sealed class ServerPoolMeter : IDisposable
{
    private const string MeterName = "Microsoft.AspNetCore.MemoryPool";
    private readonly MeterListener _listener = new();
    private long _pooled;
    private long _allocated;
    private long _evicted;

    public ServerPoolMeter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            switch (instrument.Name)
            {
                case "aspnetcore.memory_pool.pooled":
                    Interlocked.Add(ref _pooled, value);
                    break;
                case "aspnetcore.memory_pool.allocated":
                    Interlocked.Add(ref _allocated, value);
                    break;
                case "aspnetcore.memory_pool.evicted":
                    Interlocked.Add(ref _evicted, value);
                    break;
            }
        });
        _listener.Start();
    }

    public string Describe() => string.Create(
        CultureInfo.InvariantCulture,
        $"kestrelpool={(Interlocked.Read(ref _allocated) - Interlocked.Read(ref _evicted)) / 1048576.0:0}MB (free {Interlocked.Read(ref _pooled) / 1048576.0:0}MB)");

    public void Dispose() => _listener.Dispose();
}
