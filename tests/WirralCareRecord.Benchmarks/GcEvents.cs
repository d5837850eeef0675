using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace WirralCareRecord.Benchmarks;

/// <summary>
/// <c>--gc-events</c>: counts this process's collections by generation and reason, and its allocations outside gen 0
/// (the runtime's allocation ticks, one per ~100 KB, by kind and type), for the scenarios whose gateway runs in this
/// process. It found the audit log's block on the large object heap bringing on gen 2 collections.
/// </summary>
internal sealed class GcEvents : EventListener
{
    // The runtime's GC keyword; verbose for the allocation ticks.
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private static readonly string[] Reasons = ["small allocation", "induced", "low memory", "empty", "large allocation", "out of space (small)", "out of space (large)", "induced, not forced", "stress", "low memory, induced"];
    private static readonly string[] Kinds = ["small", "large", "pinned"];
    private readonly ConcurrentDictionary<string, int> _counts = new();

    public static GcEvents? Instance { get; set; }

    /// <summary>What was counted since the last call, most frequent first.</summary>
    public IEnumerable<string> TakeSummary()
    {
        var counts = _counts.ToArray();
        _counts.Clear();
        return counts.OrderByDescending(p => p.Value).Select(p => $"{p.Value,7} {p.Key}");
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
        if (eventData.EventName?.StartsWith("GCStart", StringComparison.Ordinal) == true)
        {
            var depth = Convert.ToInt32(Payload(eventData, "Depth"), CultureInfo.InvariantCulture);
            var reason = Convert.ToInt32(Payload(eventData, "Reason"), CultureInfo.InvariantCulture);
            Count($"gen {depth} collections, reason: {(reason < Reasons.Length ? Reasons[reason] : reason.ToString(CultureInfo.InvariantCulture))}");
        }
        else if (eventData.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) == true)
        {
            var kind = Convert.ToInt32(Payload(eventData, "AllocationKind"), CultureInfo.InvariantCulture);
            if (kind != 0)
            {
                Count($"allocation ticks, {(kind < Kinds.Length ? Kinds[kind] : "?")} object heap: {Payload(eventData, "TypeName") ?? "?"}");
            }
        }
    }

    private static object? Payload(EventWrittenEventArgs eventData, string name) =>
        eventData.PayloadNames?.IndexOf(name) is int i and >= 0 ? eventData.Payload![i] : null;

    private void Count(string key) => _counts.AddOrUpdate(key, 1, static (_, n) => n + 1);
}
