using System.Net;
using System.Text;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.PatientMatching;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Federation;

public sealed class CorroborationTests : IDisposable
{
    private const string Nhs = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);
    private readonly FhirSource _community = new("RY7", "Wirral Community Health and Care", OrganisationKind.CommunityTrust);

    [Fact]
    public async Task GetRecord_OneSourceHoldsTheNumberWithAnotherDateOfBirth_LeavesItOutAndSaysWhoWithoutDetails()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        _community.WithPatient(FhirSource.NewPatient("com-1", Nhs), ClinicalData.Encounter("e2", "com-1"));
        _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs, family: "Jones", given: "Sarah", birthDate: "1991-07-02"), ClinicalData.Condition("wrong-person", "pas-1"));
        using var host = new GatewayHost(_issuer, [_gp, _acute, _community]);

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.DoesNotContain(bundle.Entry, e => e.Resource is Condition { Id: "wrong-person" });
        Assert.DoesNotContain(bundle.Entry, e => e.FullUrl?.Contains("/RBL/", StringComparison.Ordinal) == true);
        Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "c1" });
        var issue = Assert.Single(bundle.SourceIssues());
        Assert.Equal("demographics-differ", issue.Details.Coding.Single().Code);
        Assert.Contains("(RBL)", issue.Diagnostics, StringComparison.Ordinal);
        Assert.Contains("date of birth differs", issue.Diagnostics, StringComparison.Ordinal);
        Assert.DoesNotContain("1991", FhirJson.Serialize(bundle), StringComparison.Ordinal);
        // The record locator's note on how sources were chosen is informational too; the basis is the one about demographics.
        var basis = Assert.Single(bundle.SourceOutcomes()!.Issue, i => i.Code == OperationOutcome.IssueType.Informational && i.Diagnostics.Contains("checked against", StringComparison.Ordinal));
        Assert.Contains("agreed by 2 of 3 sources", basis.Diagnostics, StringComparison.Ordinal);
        Assert.Contains(host.AuditEvents().Single().Entity, e => e.What?.Identifier?.Value == "RBL" && e.Description == "demographics-differ");
    }

    [Fact]
    public async Task GetRecord_CallerSuppliesDateOfBirth_SourcesDisagreeingWithItAreLeftOut()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs, birthDate: "1958-03-14"), ClinicalData.Condition("c1", "gp-1"));
        _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs, birthDate: "1958-04-14"), ClinicalData.Condition("c2", "pas-1"));
        using var host = new GatewayHost(_issuer, [_gp, _acute]);

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}&patientDOB=1958-04-14&patientFamilyName=jones");

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "c2" });
        Assert.DoesNotContain(bundle.Entry, e => e.Resource is Condition { Id: "c1" });
        Assert.Contains("supplied by the caller", bundle.SourceOutcomes()!.Issue[0].Diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRecord_PostWithDemographicParameters_UsesThem()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs, family: "Smith"), ClinicalData.Condition("c1", "gp-1"));
        using var host = new GatewayHost(_issuer, [_gp]);
        var parameters = new Parameters();
        parameters.Add("patientNHSNumber", new Identifier(NhsNumber.System, Nhs));
        parameters.Add("patientFamilyName", new FhirString("Jones"));

        var response = await host.CreateClient(_issuer.CreateToken())
            .PostAsync("/fhir/Patient/$wcr-getrecord", new StringContent(FhirJson.Serialize(parameters), Encoding.UTF8, FhirJson.MediaType));

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.NotFound);
        Assert.Contains(outcome.Issue, i => i.Diagnostics.Contains("family name differs", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetRecord_SourceMergedThePatient_FollowsReplacedByOnceAndUsesTheSurvivingRecord()
    {
        var old = FhirSource.NewPatient("pas-old", Nhs);
        old.Active = false;
        old.Link.Add(new Patient.LinkComponent { Other = new ResourceReference("Patient/pas-new"), Type = Patient.LinkType.ReplacedBy });
        var survivor = FhirSource.NewPatient("pas-new", Nhs);
        _acute.WithPatient(old).WithRead(survivor).WithSearch("Condition", "pas-new", [ClinicalData.Condition("c-new", "pas-new")]);
        using var host = new GatewayHost(_issuer, [_acute]);

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.Contains(bundle.Entry, e => e.Resource is Patient { Id: "pas-new" });
        Assert.DoesNotContain(bundle.Entry, e => e.Resource is Patient { Id: "pas-old" });
        Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "c-new" });
    }

    [Fact]
    public async Task GetRecord_MergedRecordPointsToAnotherMergedRecord_IsNotFollowedFurther()
    {
        var old = FhirSource.NewPatient("pas-old", Nhs);
        old.Link.Add(new Patient.LinkComponent { Other = new ResourceReference("Patient/pas-mid"), Type = Patient.LinkType.ReplacedBy });
        var middle = FhirSource.NewPatient("pas-mid", Nhs);
        middle.Link.Add(new Patient.LinkComponent { Other = new ResourceReference("Patient/pas-new"), Type = Patient.LinkType.ReplacedBy });
        _acute.WithPatient(old).WithRead(middle);
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        using var host = new GatewayHost(_issuer, [_gp, _acute]);

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.DoesNotContain(bundle.Entry, e => e.FullUrl?.Contains("/RBL/", StringComparison.Ordinal) == true);
        Assert.Contains("merged record that points to another merged record", Assert.Single(bundle.SourceIssues()).Diagnostics, StringComparison.Ordinal);
        Assert.DoesNotContain(_acute.RequestedPaths, p => p.Contains("pas-new", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetRecord_InvalidDateOfBirth_Returns400()
    {
        using var host = new GatewayHost(_issuer, [_gp]);

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}&patientDOB=14/03/1958");

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("patientDOB", outcome.Text(), StringComparison.Ordinal);
        Assert.Empty(_gp.RequestedPaths);
    }

    public void Dispose()
    {
        _gp.Dispose();
        _acute.Dispose();
        _community.Dispose();
        _issuer.Dispose();
    }
}
