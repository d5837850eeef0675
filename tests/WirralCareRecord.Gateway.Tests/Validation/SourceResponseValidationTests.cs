using System.Net;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;
using WirralCareRecord.Gateway.Validation;

namespace WirralCareRecord.Gateway.Tests.Validation;

public sealed class SourceResponseValidationTests : IDisposable
{
    private const string Nhs = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);

    [Fact]
    public async Task RecordRead_ValidationOn_ReportsTheNonConformingItemAndKeepsIt()
    {
        // Arrange: a condition without a code does not meet WCR-Condition.
        var uncoded = ClinicalData.Condition("c2", "gp-1");
        uncoded.Code = null;
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"), uncoded);
        using var host = new GatewayHost(_issuer, [_gp], settings: new() { ["Validation:ValidateSourceResponses"] = "true" });

        // Act
        var bundle = await ReadRecordAsync(host);

        // Assert
        var index = bundle.Entry.FindIndex(e => e.Resource is Condition { Id: "c2" });
        Assert.True(index >= 0, "the non-conforming condition is still in the record");
        var issue = Assert.Single(bundle.SourceOutcomes()!.Issue, i => i.Details?.Coding.Any(c => c.Code == "nonconformant") == true);
        Assert.Equal(OperationOutcome.IssueSeverity.Warning, issue.Severity);
        Assert.Equal($"Bundle.entry[{index}].resource", Assert.Single(issue.Expression));
        Assert.Equal("https://fhir.nhs.uk/Id/ods-organization-code|N85001", Assert.Single(issue.Location));
        Assert.Equal("N85001: Condition/c2 does not conform to the Wirral Care Record profiles: Condition.code: minimum required = 1, but only found 0. It is shown as the source sent it.", issue.Diagnostics);
    }

    [Fact]
    public async Task RecordRead_ValidationOff_ReportsNothing()
    {
        // Arrange
        var uncoded = ClinicalData.Condition("c2", "gp-1");
        uncoded.Code = null;
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), uncoded);
        using var host = new GatewayHost(_issuer, [_gp]);

        // Act
        var bundle = await ReadRecordAsync(host);

        // Assert
        Assert.DoesNotContain(bundle.SourceOutcomes()?.Issue ?? [], i => i.Details?.Coding.Any(c => c.Code == "nonconformant") == true);
        Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "c2" });
    }

    [Fact]
    public async Task RecordRead_CombinedRecord_ConformsToWcrRecordBundle()
    {
        // Arrange
        var allergy = ClinicalData.Allergy("a1", "gp-1");
        allergy.ClinicalStatus = new CodeableConcept("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active");
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"), allergy, ClinicalData.Medication("m1", "gp-1"));
        using var host = new GatewayHost(_issuer, [_gp]);
        var bundle = await ReadRecordAsync(host);

        // Act
        var outcome = Definitions.Engine.Validate(bundle, Definitions.Wirral + "WCR-RecordBundle");
        var provenance = Definitions.Engine.Validate(bundle.Entry.Select(e => e.Resource).OfType<Provenance>().Single(), null);

        // Assert
        Assert.True(outcome.Success, outcome.Errors().Describe());
        Assert.True(provenance.Success, provenance.Errors().Describe());
    }

    [Fact]
    public void Annotate_BundleWithoutOutcome_AddsOneInOutcomeMode()
    {
        // Arrange
        var uncoded = ClinicalData.Condition("c2", "gp-1");
        uncoded.Code = null;
        var record = new Bundle
        {
            Type = Bundle.BundleType.Searchset,
            Entry = [new Bundle.EntryComponent { FullUrl = "https://gateway.example/sources/RBL/fhir/Condition/c2", Resource = uncoded, Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Include } }],
        };
        var validator = new SourceResponseValidator(
            new ProfileLibrary(Options.Create(new ValidationOptions { BaseDefinitionsPath = Definitions.Paths.BaseDefinitions }), NullLogger<ProfileLibrary>.Instance),
            Options.Create(new ValidationOptions { ValidateSourceResponses = true }),
            NullLogger<SourceResponseValidator>.Instance);

        // Act
        var count = validator.Annotate(record, "corr-1");

        // Assert
        Assert.Equal(1, count);
        var outcome = Assert.IsType<OperationOutcome>(record.Entry[1].Resource);
        Assert.Equal(Bundle.SearchEntryMode.Outcome, record.Entry[1].Search.Mode);
        Assert.Equal("Bundle.entry[0].resource", Assert.Single(Assert.Single(outcome.Issue).Expression));
    }

    private async Task<Bundle> ReadRecordAsync(GatewayHost host)
    {
        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");
        return await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
    }

    public void Dispose()
    {
        _gp.Dispose();
        _issuer.Dispose();
    }
}
