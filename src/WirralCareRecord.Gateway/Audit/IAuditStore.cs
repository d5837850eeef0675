using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// Durable, append-only storage for AuditEvents. <see cref="AppendAsync"/> returns only once the event is stored;
/// it throws if it cannot be, and the caller must then fail the request. Nothing here edits or deletes an event.
/// </summary>
public interface IAuditStore
{
    /// <summary>
    /// Stores the access as an AuditEvent, chained to the one before it in its blob (the event carries the chain
    /// extension). Concurrent callers share one write; each returns when that write is acknowledged, or throws what it
    /// failed with.
    /// </summary>
    Task AppendAsync(AuditEntry entry, CancellationToken cancellationToken);

    /// <summary>Throws unless the store can be written now; for the readiness check, writes no event.</summary>
    Task ProbeAsync(CancellationToken cancellationToken);

    /// <summary>Every event recorded on the UTC days <paramref name="firstDay"/> to <paramref name="lastDay"/>, inclusive, in recorded order hour by hour.</summary>
    IAsyncEnumerable<AuditEvent> ReadAsync(DateOnly firstDay, DateOnly lastDay, CancellationToken cancellationToken);
}
