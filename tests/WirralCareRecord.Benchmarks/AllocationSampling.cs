using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace WirralCareRecord.Benchmarks;

/// <summary>
/// Allocations by type while it is alive, from the runtime's own sampling (<c>GCAllocationTick</c>, one event per about
/// 100 KB allocated, naming the type that crossed the mark): where a read's bytes go, without a profiler attached.
/// </summary>
internal sealed class AllocationSampling : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private volatile bool _listening = true;

    /// <summary>The <paramref name="count"/> types with the most bytes sampled, largest first.</summary>
    public string Top(int count) =>
        string.Join(", ", _bytes.OrderByDescending(b => b.Value).Take(count).Select(b => string.Create(CultureInfo.InvariantCulture, $"{b.Key} {b.Value / 1048576.0:0.0} MB")));

    public override void Dispose()
    {
        _listening = false;
        base.Dispose();
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_listening || eventData.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || eventData.Payload is not { } payload || eventData.PayloadNames is not { } names)
        {
            return;
        }

        var type = names.IndexOf("TypeName") is >= 0 and var t ? payload[t] as string ?? "?" : "?";
        // AllocationKind 1 is the large object heap: worth telling apart from the same type's small arrays.
        var large = names.IndexOf("AllocationKind") is >= 0 and var k && Convert.ToInt32(payload[k], CultureInfo.InvariantCulture) == 1;
        var amount = names.IndexOf("AllocationAmount64") is >= 0 and var a ? Convert.ToInt64(payload[a], CultureInfo.InvariantCulture) : 100 * 1024;
        var key = Shorter(type) + (large ? " (LOH)" : "");
        _bytes.AddOrUpdate(key, amount, (_, total) => total + amount);
    }

    private static string Shorter(string type) => type
        .Replace("WirralCareRecord.Gateway.SourceAnswers.", "", StringComparison.Ordinal)
        .Replace("System.Collections.Generic.", "", StringComparison.Ordinal)
        .Replace("System.", "", StringComparison.Ordinal);
}
