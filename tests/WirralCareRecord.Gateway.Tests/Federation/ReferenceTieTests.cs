using System.Net;
using Hl7.Fhir.Model;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Federation;

/// <summary>
/// Issue 15, item 5 (hazard WCR-H26): two sources disagreeing 1:1 on date of birth are never settled by organisation
/// code. Each case runs with the codes both ways round: the answer must not depend on which code sorts first.
/// </summary>
public sealed class ReferenceTieTests : IDisposable
{
    private const string Nhs = "9000000009";
    private const string PdsBase = "/personal-demographics/FHIR/R4";
    private readonly TestIssuer _issuer = new();
    private readonly WireMockServer _pds = WireMockServer.Start();
    private readonly List<FhirSource> _sources = [];

    private (FhirSource Of1958, FhirSource Of1959) TwoSources(string odsOf1958, string odsOf1959, string? registeredPractice = null)
    {
        var of1958 = new FhirSource(odsOf1958, "First source", OrganisationKind.AcuteTrust);
        var of1959 = new FhirSource(odsOf1959, "Second source", OrganisationKind.AcuteTrust);
        _sources.AddRange([of1958, of1959]);
        of1958.WithPatient(Named(FhirSource.NewPatient("p-58", Nhs, birthDate: "1958-03-14"), registeredPractice), ClinicalData.Condition("c-58", "p-58"));
        of1959.WithPatient(Named(FhirSource.NewPatient("p-59", Nhs, birthDate: "1959-03-14"), registeredPractice), ClinicalData.Condition("c-59", "p-59"));
        return (of1958, of1959);
    }

    private static Patient Named(Patient patient, string? practice)
    {
        if (practice is not null)
        {
            patient.GeneralPractitioner.Add(new ResourceReference { Identifier = new Identifier(OdsCode.System, practice) });
        }

        return patient;
    }

    private void PdsHolds(string birthDate) =>
        _pds.Given(Request.Create().UsingGet().WithPath($"{PdsBase}/Patient/{Nhs}"))
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", FhirJson.ContentType)
                .WithBody(FhirJson.Serialize(FhirSource.NewPatient(Nhs, Nhs, birthDate: birthDate))));

    [Theory]
    [InlineData("A81001", "Y02345")]
    [InlineData("Y02345", "A81001")]
    public async Task GetRecord_TwoSourcesDisagreeOneToOneOnDateOfBirth_Answers409AskingForPatientDobInBothOdsOrders(string odsOf1958, string odsOf1959)
    {
        var (of1958, of1959) = TwoSources(odsOf1958, odsOf1959);
        using var host = new GatewayHost(_issuer, [of1958, of1959]);

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.Conflict);
        Assert.Equal(OperationOutcome.IssueType.MultipleMatches, outcome.Issue[0].Code);
        Assert.Contains("giving patientDOB (and patientFamilyName)", outcome.Issue[0].Diagnostics, StringComparison.Ordinal);
        var body = FhirJson.Serialize(outcome);
        Assert.DoesNotContain("1958", body, StringComparison.Ordinal);
        Assert.DoesNotContain("1959", body, StringComparison.Ordinal);
        Assert.DoesNotContain("c-5", body, StringComparison.Ordinal);
        var audit = host.AuditEvents().Single();
        Assert.Contains(audit.Entity, e => e.What?.Identifier?.Value == odsOf1958 && e.Description == "demographics-differ");
        Assert.Contains(audit.Entity, e => e.What?.Identifier?.Value == odsOf1959 && e.Description == "demographics-differ");
    }

    [Theory]
    [InlineData("A81001", "Y02345")]
    [InlineData("Y02345", "A81001")]
    public async Task GetRecord_TieAndCallerGivesPatientDob_MergesTheSourceItNamesInBothOdsOrders(string odsOf1958, string odsOf1959)
    {
        var (of1958, of1959) = TwoSources(odsOf1958, odsOf1959);
        using var host = new GatewayHost(_issuer, [of1958, of1959]);

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}&patientDOB=1959-03-14");

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "c-59" });
        Assert.DoesNotContain(bundle.Entry, e => e.Resource is Condition { Id: "c-58" });
    }

    [Theory]
    [InlineData("A81001", "Y02345")]
    [InlineData("Y02345", "A81001")]
    public async Task GetRecord_TieAndTheDemographicsServiceAnswers_MergesTheSourceItConfirmsInBothOdsOrders(string odsOf1958, string odsOf1959)
    {
        var (of1958, of1959) = TwoSources(odsOf1958, odsOf1959);
        PdsHolds("1959-03-14");
        using var host = new GatewayHost(_issuer, [of1958, of1959], settings: new() { ["Locator:DemographicsServiceUrl"] = _pds.Url + PdsBase });

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "c-59" });
        Assert.DoesNotContain(bundle.Entry, e => e.Resource is Condition { Id: "c-58" });
        var issue = Assert.Single(bundle.SourceIssues());
        Assert.Equal("demographics-differ", issue.Details.Coding.Single().Code);
        Assert.Contains($"({odsOf1958})", issue.Diagnostics, StringComparison.Ordinal);
        Assert.Contains(bundle.SourceOutcomes()!.Issue, i => i.Diagnostics.Contains("confirmed by the demographics service", StringComparison.Ordinal));
        // The locator asked the service for this read already; the tie reuses that answer rather than asking again.
        Assert.Single(_pds.LogEntries);
    }

    [Theory]
    [InlineData("A81001", "Y02345")]
    [InlineData("Y02345", "A81001")]
    public async Task GetRecord_TieWithoutTheServiceAndBothNameTheSamePractice_MergesThatPracticesRecordInBothOdsOrders(string odsOf1958, string odsOf1959)
    {
        // Both sources name the source holding 1959 as the registered practice.
        var (of1958, of1959) = TwoSources(odsOf1958, odsOf1959, registeredPractice: odsOf1959);
        using var host = new GatewayHost(_issuer, [of1958, of1959]);

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "c-59" });
        Assert.DoesNotContain(bundle.Entry, e => e.Resource is Condition { Id: "c-58" });
        Assert.Contains(bundle.SourceOutcomes()!.Issue, i => i.Diagnostics.Contains($"the registered GP practice's record ({odsOf1959})", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("A81001", "Y02345")]
    [InlineData("Y02345", "A81001")]
    public async Task SourceRoute_TwoSourcesTiedOnDateOfBirth_RefusesWithoutSayingTheValuesInBothOdsOrders(string odsOf1958, string odsOf1959)
    {
        var (of1958, of1959) = TwoSources(odsOf1958, odsOf1959);
        of1958.WithRead(ClinicalData.Condition("c-58", "p-58"));
        using var host = new GatewayHost(_issuer, [of1958, of1959]);

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync($"/sources/{odsOf1958}/fhir/Condition/c-58");

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains("disagree on the patient's demographics", outcome.Text(), StringComparison.Ordinal);
        Assert.DoesNotContain("1958", FhirJson.Serialize(outcome), StringComparison.Ordinal);
        Assert.DoesNotContain("1959", FhirJson.Serialize(outcome), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _pds.Stop();
        _pds.Dispose();
        foreach (var source in _sources)
        {
            source.Dispose();
        }

        _issuer.Dispose();
    }
}
