using System.Collections.Concurrent;
using System.Diagnostics;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Benchmarks;

/// <summary>
/// Where a federated read's time goes beyond L, from the activities the gateway, ASP.NET Core and HttpClient already
/// emit (gateway and sources share the process in the fan-out scenario): before the first source is asked (sign-in,
/// agreements, locator), on the wire to the sources (a request's time less the source's own), after the source's
/// answer is in until its result is ready (outline, rules, keep), and after the last result until the response has
/// gone (the Bundle written, the audit made durable).
/// </summary>
internal sealed class ReadTimeline : IDisposable
{
    private readonly ConcurrentQueue<Activity> _done = new();
    private readonly ActivityListener _listener;

    public ReadTimeline()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is GatewayTelemetry.Name or "Microsoft.AspNetCore" or "System.Net.Http",
            Sample = (ref _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _done.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Clear() => _done.Clear();

    /// <summary>
    /// Medians over the reads recorded since <see cref="Clear"/>, in milliseconds; with <paramref name="slowestPercent"/>,
    /// over only the slowest reads (by the gateway's own request time), to see which phase a tail comes from.
    /// </summary>
    public Dictionary<string, double> Medians(double slowestPercent = 100)
    {
        var phases = new Dictionary<string, List<double>>
        {
            ["before_sources"] = [],
            ["source_server"] = [],
            ["wire"] = [],
            ["source_after_answer"] = [],
            ["after_sources"] = [],
            ["audit_append"] = [],
            ["record_bundle"] = [],
            ["after_sources_until_audit"] = [],
            ["after_audit_and_bundle"] = [],
        };
        var reads = new List<(List<Activity> All, Dictionary<ActivitySpanId, Activity> ById, List<Activity> Servers, Activity Request, List<Activity> Sources)>();
        foreach (var trace in _done.GroupBy(a => a.TraceId))
        {
            var all = trace.ToList();
            var byId = all.ToDictionary(a => a.SpanId);
            var servers = all.Where(a => a.Source.Name == "Microsoft.AspNetCore").ToList();
            // The gateway's own request is the server activity with no server or source activity above it.
            var request = servers.Where(s => !HasAncestor(s, byId, a => a.Source.Name is "Microsoft.AspNetCore" or GatewayTelemetry.Name)).MinBy(s => s.StartTimeUtc);
            var sources = all.Where(a => a.Source.Name == GatewayTelemetry.Name && a.OperationName.StartsWith("source ", StringComparison.Ordinal)).ToList();
            if (request is not null && sources.Count > 0)
            {
                reads.Add((all, byId, servers, request, sources));
            }
        }

        if (slowestPercent < 100 && reads.Count > 0)
        {
            var threshold = Stats.Percentile([.. reads.Select(r => r.Request.Duration.TotalMilliseconds)], 100 - slowestPercent);
            reads = [.. reads.Where(r => r.Request.Duration.TotalMilliseconds >= threshold)];
        }

        foreach (var (all, byId, servers, request, sources) in reads)
        {

            phases["before_sources"].Add((sources.Min(s => s.StartTimeUtc) - request.StartTimeUtc).TotalMilliseconds);
            phases["after_sources"].Add((End(request) - sources.Max(End)).TotalMilliseconds);
            // The way out, split: matching and the locator until the audit starts; the audit's durable append and the
            // Bundle's write, which overlap; then the response sent.
            var audit = all.FirstOrDefault(a => a.Source.Name == GatewayTelemetry.Name && a.OperationName == "audit append");
            var written = all.FirstOrDefault(a => a.Source.Name == GatewayTelemetry.Name && a.OperationName == "record bundle");
            if (audit is not null && written is not null)
            {
                phases["audit_append"].Add(audit.Duration.TotalMilliseconds);
                phases["record_bundle"].Add(written.Duration.TotalMilliseconds);
                phases["after_sources_until_audit"].Add((audit.StartTimeUtc - sources.Max(End)).TotalMilliseconds);
                phases["after_audit_and_bundle"].Add((End(request) - (End(audit) > End(written) ? End(audit) : End(written))).TotalMilliseconds);
            }
            foreach (var source in sources)
            {
                var calls = all.Where(a => a.Source.Name == "System.Net.Http" && HasAncestor(a, byId, p => p.SpanId == source.SpanId)).ToList();
                var served = servers.Where(s => calls.Any(c => s.ParentSpanId == c.SpanId)).ToList();
                phases["source_server"].Add(served.Sum(s => s.Duration.TotalMilliseconds));
                phases["wire"].Add(calls.Sum(c => c.Duration.TotalMilliseconds) - served.Sum(s => s.Duration.TotalMilliseconds));
                if (calls.Count > 0)
                {
                    phases["source_after_answer"].Add((End(source) - calls.Max(End)).TotalMilliseconds);
                }
            }
        }

        return phases.Where(p => p.Value.Count > 0).ToDictionary(p => p.Key, p => Stats.Percentile(p.Value, 50));
    }

    private static DateTime End(Activity activity) => activity.StartTimeUtc + activity.Duration;

    private static bool HasAncestor(Activity activity, Dictionary<ActivitySpanId, Activity> byId, Func<Activity, bool> test)
    {
        for (var at = activity.ParentSpanId; byId.TryGetValue(at, out var parent); at = parent.ParentSpanId)
        {
            if (test(parent))
            {
                return true;
            }
        }

        return false;
    }

    public void Dispose() => _listener.Dispose();
}
