using System.Globalization;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>What one source did in an audited access.</summary>
internal sealed record SourceFact(string OdsCode, string Outcome, OrganisationKind? Setting);

/// <summary>
/// The facts of one AuditEvent that searches and reports use, read back from the event as
/// <see cref="AuditEventFactory"/> wrote it. Searches, roll-ups and raw scans all read events through here, so they
/// cannot disagree about what an event says.
/// </summary>
internal sealed record AuditFacts(
    string Id,
    DateTimeOffset Recorded,
    string? Request,
    int? HttpStatus,
    AuditEvent.AuditEventOutcome? Outcome,
    string? UserId,
    string? OrganisationOds,
    string? NhsNumber,
    bool BreakGlass,
    IReadOnlyList<SourceFact> Sources)
{
    /// <summary>Source outcomes that mean the source could not be read at all.</summary>
    public static IReadOnlySet<string> FailedOutcomes { get; } = new HashSet<string>(StringComparer.Ordinal) { "failed", "timed-out", "unreadable", "circuit-open", "unavailable" };

    /// <summary><c>$wcr-getrecord</c>: the federated read by NHS number.</summary>
    public bool IsFederatedRead => Request?.Contains("/fhir/Patient/$wcr-getrecord", StringComparison.Ordinal) == true;

    /// <summary>A read of one source's data through its route.</summary>
    public bool IsSourceRead => Request?.Contains(" /sources/", StringComparison.Ordinal) == true;

    public bool IsRecordRead => IsFederatedRead || IsSourceRead;

    /// <summary>A record was returned: the answer was a success (2xx).</summary>
    public bool Succeeded => HttpStatus is >= 200 and < 300 || (HttpStatus is null && Outcome == AuditEvent.AuditEventOutcome.N0);

    /// <summary>The caller was turned away: not signed in, not allowed (no agreement, objection, no relationship) or over the rate limit.</summary>
    public bool Refused => HttpStatus is 401 or 403 or 429;

    public static AuditFacts From(AuditEvent auditEvent)
    {
        var query = auditEvent.Entity.FirstOrDefault(e => e.Role?.Code == "24");
        var requestor = auditEvent.Agent.FirstOrDefault(a => a.Requestor == true);
        var organisation = auditEvent.Agent.FirstOrDefault(a => a.Requestor != true && a.Who?.Identifier?.System == OdsCode.System);
        var patient = auditEvent.Entity.FirstOrDefault(e => e.Role?.Code == "1" && e.What?.Identifier?.System == PatientMatching.NhsNumber.System);
        return new AuditFacts(
            auditEvent.Id ?? "",
            auditEvent.Recorded ?? DateTimeOffset.MinValue,
            query?.Description,
            Detail(query, AuditEventFactory.HttpStatusDetail) is { } status && int.TryParse(status, NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code : null,
            auditEvent.Outcome,
            requestor?.Who?.Identifier?.Value,
            organisation?.Who?.Identifier?.Value,
            patient?.What?.Identifier?.Value,
            auditEvent.PurposeOfEvent.Any(p => p.Coding.Any(c => c.Code == AuditEventFactory.BreakGlass)),
            [.. auditEvent.Entity
                .Where(e => e.Role?.Code == "3" && e.What?.Identifier?.System == OdsCode.System && e.What.Identifier.Value is not null)
                .Select(e => new SourceFact(
                    e.What!.Identifier!.Value!,
                    Detail(e, "outcome") ?? e.Description ?? "",
                    Enum.TryParse<OrganisationKind>(Detail(e, AuditEventFactory.SettingDetail), out var kind) ? kind : null))]);
    }

    private static string? Detail(AuditEvent.EntityComponent? entity, string type) =>
        entity?.Detail.FirstOrDefault(d => d.Type == type)?.Value switch
        {
            FhirString text => text.Value,
            Base64Binary bytes when bytes.Value is { } value => System.Text.Encoding.UTF8.GetString(value),
            _ => null,
        };
}
