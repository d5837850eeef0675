using System.Net;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Federation;

public sealed class LegitimateRelationshipTests : IDisposable
{
    private const string Nhs = "9000000009";
    private const string SocialCare = "WIR01";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);
    private readonly FhirSource _council = new(SocialCare, "Wirral Council adult social care", OrganisationKind.SocialCare);

    private GatewayHost Host() => new(_issuer, [_gp, _council], registry =>
    {
        registry.Agreements[0].Consumers.Add(SocialCare);
        registry.Agreements[0].Providers.Add(SocialCare);
    });

    private static string RecordUrl(string? breakGlass = null) =>
        $"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}" + (breakGlass is null ? "" : "&breakGlassReason=" + Uri.EscapeDataString(breakGlass));

    [Fact]
    public async Task GetRecord_SocialCareWithoutRelationship_Returns403AndNoRecord()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        using var host = Host();

        var response = await host.CreateClient(_issuer.CreateToken(ods: SocialCare)).GetAsync(RecordUrl());

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains("no recorded relationship", outcome.Text(), StringComparison.Ordinal);
        Assert.DoesNotContain("44054006", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRecord_SocialCareWithRecentEncounterAtOwnOrganisation_ReturnsRecord()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        var visit = ClinicalData.Encounter("v1", "wir-1");
        visit.Period = new Period { Start = DateTimeOffset.UtcNow.AddDays(-20).ToString("yyyy-MM-dd") };
        _council.WithPatient(FhirSource.NewPatient("wir-1", Nhs), visit);
        using var host = Host();

        var response = await host.CreateClient(_issuer.CreateToken(ods: SocialCare)).GetAsync(RecordUrl());

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "c1" });
    }

    [Fact]
    public async Task GetRecord_SocialCareWithBreakGlass_ReturnsRecordAuditedAsBreakGlass()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        using var host = Host();

        var response = await host.CreateClient(_issuer.CreateToken(ods: SocialCare)).GetAsync(RecordUrl("Safeguarding emergency, police on scene"));

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.Contains(bundle.SourceOutcomes()!.Issue, i => i.Diagnostics.Contains("opened by break-glass", StringComparison.Ordinal));
        Assert.Equal("BTG", host.AuditEvents().Single().PurposeOfEvent.Single().Coding.Single().Code);
    }

    [Fact]
    public async Task GetRecord_GpPractice_NeedsNoRelationshipByDefault()
    {
        _council.WithPatient(FhirSource.NewPatient("wir-1", Nhs), ClinicalData.Encounter("v1", "wir-1"));
        using var host = Host();

        var response = await host.CreateClient(_issuer.CreateToken(ods: "N85001")).GetAsync(RecordUrl());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public void Dispose()
    {
        _gp.Dispose();
        _council.Dispose();
        _issuer.Dispose();
    }
}
