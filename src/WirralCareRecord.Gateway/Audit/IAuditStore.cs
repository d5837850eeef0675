using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// Durable, append-only storage for AuditEvents. <see cref="AppendAsync"/> returns only once the event is stored;
/// it throws if it cannot be, and the caller must then fail the request.
/// </summary>
public interface IAuditStore
{
    Task AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken);

    /// <summary>Throws unless the store can be written now; for the readiness check, writes no event.</summary>
    Task ProbeAsync(CancellationToken cancellationToken);

    /// <summary>Every event recorded on the UTC days <paramref name="firstDay"/> to <paramref name="lastDay"/>, inclusive, oldest day first.</summary>
    IAsyncEnumerable<AuditEvent> ReadAsync(DateOnly firstDay, DateOnly lastDay, CancellationToken cancellationToken);
}
