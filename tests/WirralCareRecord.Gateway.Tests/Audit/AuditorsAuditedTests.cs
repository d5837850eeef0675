using System.Net;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Audit;

/// <summary>Issue 16, finding 4: every auditor query is itself a BALP Query AuditEvent in the same log: who, what, which patient.</summary>
public sealed class AuditorsAuditedTests : IDisposable
{
    private const string Nhs = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);

    public AuditorsAuditedTests() => _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Encounter("e1", "pas-1"));

    [Fact]
    public async Task AuditorQueries_EveryKind_AreBalpQueryEventsNamingWhoWhatAndPatient()
    {
        using var host = new GatewayHost(_issuer, [_acute]);
        var auditor = host.CreateClient(_issuer.CreateToken(role: "Auditor", ods: "X26", userId: "auditor-07"));
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        string[] paths =
        [
            $"/audit/AuditEvent?patient={Nhs}",
            $"/audit/$export?start={today}&end={today}",
            $"/audit/$verify?date={today}",
            $"/audit/$story-once-report?start={today}&end={today}&_format=csv",
            $"/audit/$disclosures?source=RBL",
            "/audit/break-glass",
        ];

        foreach (var path in paths)
        {
            using var response = await auditor.GetAsync(path);
            Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode}");
        }

        using var refused = await auditor.GetAsync("/audit/$verify");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);

        var events = host.AuditEvents().Where(e => e.Agent.First().Who.Identifier.Value == "auditor-07").ToList();
        Assert.Equal(paths.Length + 1, events.Count);
        Assert.All(events, e =>
        {
            Assert.Equal("110112", e.Type.Code);
            Assert.Equal("search", e.Subtype.Single().Code);
            Assert.Equal(AuditEvent.AuditEventAction.E, e.Action);
        });
        foreach (var operation in new[] { "/audit/AuditEvent", "/audit/$export", "/audit/$verify", "/audit/$story-once-report", "/audit/$disclosures", "/audit/break-glass" })
        {
            Assert.Contains(events, e => e.Entity.Any(x => x.Description?.StartsWith("GET " + operation, StringComparison.Ordinal) == true));
        }

        var search = events.Single(e => e.Entity.Any(x => x.Description == "GET /audit/AuditEvent?patient"));
        Assert.Equal(Nhs, search.Entity.Single(x => x.Role?.Code == "1").What.Identifier.Value);
        Assert.Contains(events, e => e.Outcome == AuditEvent.AuditEventOutcome.N4);

        // Visible in the same log, to the next auditor's search.
        var bundle = await FhirAssert.ReadAsync<Bundle>(await auditor.GetAsync("/audit/AuditEvent?agent=auditor-07"), HttpStatusCode.OK);
        Assert.True(bundle.Entry.Count >= paths.Length);
    }

    public void Dispose()
    {
        _acute.Dispose();
        _issuer.Dispose();
    }
}
