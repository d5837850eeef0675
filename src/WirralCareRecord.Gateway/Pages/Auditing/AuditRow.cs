using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Pages.Auditing;

/// <summary>An AuditEvent as an auditor reads it in a table.</summary>
public sealed record AuditRow(string Recorded, string Who, string? Organisation, string? Patient, string Request, string Outcome, string? BreakGlassReason)
{
    public static AuditRow From(AuditEvent e)
    {
        var requestor = e.Agent.FirstOrDefault(a => a.Requestor == true);
        var organisation = e.Agent.FirstOrDefault(a => a.Who?.Identifier?.System == OdsCode.System)?.Who?.Identifier?.Value;
        var patient = e.Entity.FirstOrDefault(x => x.What?.Identifier?.System == NhsNumber.System)?.What?.Identifier?.Value;
        var query = e.Entity.FirstOrDefault(x => x.Role?.Code == "24");
        return new AuditRow(
            e.Recorded?.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture) ?? "",
            requestor?.Who is { } who ? $"{who.Display ?? "Unnamed"} ({who.Identifier?.Value})" : "Unknown",
            organisation,
            patient is null ? null : Record.RecordView.Format(patient),
            query?.Description ?? "",
            e.OutcomeDesc ?? e.Outcome?.ToString() ?? "",
            query?.Detail.FirstOrDefault(d => d.Type == "break-glass-reason")?.Value is FhirString reason ? reason.Value : null);
    }
}
