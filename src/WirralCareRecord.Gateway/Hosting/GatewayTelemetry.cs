using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace WirralCareRecord.Gateway.Hosting;

/// <summary>
/// The gateway's own spans and metrics. Tags carry ODS codes, outcome codes and counts only: never an NHS number,
/// a name or clinical content, so traces and metrics are as safe to ship as application logs.
/// </summary>
public sealed class GatewayTelemetry : IDisposable
{
    public const string Name = "WirralCareRecord.Gateway";

    public static ActivitySource Source { get; } = new(Name);

    private readonly Meter _meter;
    private readonly Counter<long> _reads;
    private readonly Histogram<double> _sourceDuration;
    private readonly Counter<long> _sourceFailures;
    private readonly Histogram<double> _auditWrite;
    private readonly UpDownCounter<long> _auditQueue;
    private readonly Histogram<int> _auditBatch;
    private readonly Histogram<double> _auditAppend;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _breakers = new(StringComparer.Ordinal);

    public GatewayTelemetry(IMeterFactory meters)
    {
        _meter = meters.Create(Name);
        _reads = _meter.CreateCounter<long>("wcr.record.reads", description: "Federated record reads, by outcome (HTTP status).");
        _sourceDuration = _meter.CreateHistogram<double>("wcr.source.duration", "ms", "Time to fetch a patient's record from one source.");
        _sourceFailures = _meter.CreateCounter<long>("wcr.source.failures", description: "Sources that did not contribute, by kind (timed-out, failed, unreadable, circuit-open).");
        _auditWrite = _meter.CreateHistogram<double>("wcr.audit.write.duration", "ms", "Time to store an AuditEvent durably.");
        _auditQueue = _meter.CreateUpDownCounter<long>("wcr.audit.queue.depth", "{event}", "AuditEvents waiting for the audit writer's next append.");
        _auditBatch = _meter.CreateHistogram<int>("wcr.audit.batch.size", "{event}", "AuditEvents written by one append (group commit).");
        _auditAppend = _meter.CreateHistogram<double>("wcr.audit.append.duration", "ms", "Time for one append to the audit log's storage.");
        _meter.CreateObservableGauge(
            "wcr.source.breaker.state",
            () => _breakers.Select(b => new Measurement<int>(b.Value, new KeyValuePair<string, object?>("wcr.source.ods", b.Key))),
            description: "Each source's circuit breaker: 0 closed, 1 half-open, 2 open (skipped).");
    }

    public void RecordRead(int status) => _reads.Add(1, new KeyValuePair<string, object?>("http.response.status_code", status));

    public void RecordSource(string odsCode, string outcome, double milliseconds, bool failed)
    {
        var tags = new TagList { { "wcr.source.ods", odsCode }, { "wcr.source.outcome", outcome } };
        _sourceDuration.Record(milliseconds, tags);
        if (failed)
        {
            _sourceFailures.Add(1, tags);
        }
    }

    public void RecordAuditWrite(double milliseconds) => _auditWrite.Record(milliseconds);

    public void AuditQueueChanged(int delta) => _auditQueue.Add(delta);

    public void RecordAuditAppend(int events, double milliseconds)
    {
        _auditBatch.Record(events);
        _auditAppend.Record(milliseconds);
    }

    /// <summary>Circuit breaker states, as the gauge reports them.</summary>
    public enum BreakerState
    {
        Closed = 0,
        HalfOpen = 1,
        Open = 2,
    }

    public void RecordBreaker(string odsCode, BreakerState state) => _breakers[odsCode] = (int)state;

    public void Dispose() => _meter.Dispose();
}
