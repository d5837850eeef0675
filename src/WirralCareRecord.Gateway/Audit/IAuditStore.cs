using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// Durable, append-only storage for AuditEvents. <see cref="AppendAsync"/> returns only once the event is stored;
/// it throws if it cannot be, and the caller must then fail the request.
/// </summary>
public interface IAuditStore
{
    Task AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken);
}
