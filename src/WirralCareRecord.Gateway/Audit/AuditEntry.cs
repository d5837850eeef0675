using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// One access as the audit log will store it: what happened, when, and on which instance. The log writes it as a FHIR
/// AuditEvent (<see cref="AuditEventFactory.Write"/>) straight to JSON, chained to the line before it.
/// </summary>
/// <param name="SettingOf">The kind of setting each source organisation is, recorded with the access so later reports count settings as they were.</param>
public sealed record AuditEntry(AccessAudit Access, DateTimeOffset Recorded, string InstanceId, Func<string, OrganisationKind?>? SettingOf = null)
{
    /// <summary>The AuditEvent's id, fixed when the access is recorded so a retried write keeps it.</summary>
    public string Id { get; init; } = Guid.NewGuid().ToString();
}
