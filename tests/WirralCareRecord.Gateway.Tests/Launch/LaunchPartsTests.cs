using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Launch;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Pages.Record;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Launch;

/// <summary>The parts of the context launch and the record page that can be checked without a browser.</summary>
public sealed class LaunchPartsTests
{
    [Fact]
    public void PkceChallenge_IsBase64UrlOfSha256OfVerifier_WithoutPadding()
    {
        // RFC 7636 section 4.2, S256: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))); value computed independently.
        Assert.Equal("QQkPGbk6XPPWl-4_g55OnxVsoZ8gSeMTui-XYp6wd84", SmartLaunch.Challenge("dBjftJeZ4CVP-mJ92K9WeTJNI1eztgaU1tCbCnbWM"));
    }

    [Theory]
    [InlineData("https://ehr.example.nhs.uk/fhir", true)]
    [InlineData("https://ehr.example.nhs.uk/fhir/", true)]
    [InlineData("https://EHR.example.nhs.uk/fhir", true)]
    [InlineData("https://ehr.example.nhs.uk/fhir2", false)]
    [InlineData("https://ehr.example.nhs.uk.evil.example/fhir", false)]
    [InlineData("not a url", false)]
    public void RecordSystem_Issued_ComparesAsUrls(string iss, bool expected)
    {
        Assert.Equal(expected, new RecordSystem("https://ehr.example.nhs.uk/fhir", "wcr").Issued(iss));
    }

    [Fact]
    public void RegistryDocument_OneIssuerForTwoOrganisations_IsRefused()
    {
        var registry = new RegistryDocument
        {
            Organisations =
            [
                new() { OdsCode = "N85001", Name = "A", FhirBaseUrl = "https://a.example/fhir", RecordSystem = new RecordSystem("https://ehr.example/fhir", "wcr") },
                new() { OdsCode = "N85002", Name = "B", FhirBaseUrl = "https://b.example/fhir", RecordSystem = new RecordSystem("https://ehr.example/fhir/", "wcr") },
            ],
        };

        var problem = Assert.Throws<InvalidDataException>(registry.ToSnapshot);

        Assert.Contains("belongs to another organisation", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RegistryDocument_WithoutRecordSystem_LoadsAsBefore()
    {
        var registry = new RegistryDocument { Organisations = [new() { OdsCode = "N85001", Name = "A", FhirBaseUrl = "https://a.example/fhir" }] };

        Assert.Null(registry.ToSnapshot().Find("N85001")!.RecordSystem);
    }

    [Fact]
    public void ObservationValue_BloodPressureInComponents_IsSystolicOverDiastolicWithUnit()
    {
        Assert.Equal("120/80 mmHg", RecordView.ObservationValue(ClinicalData.BloodPressure("bp", "p", 120, 80, "2025-01-01")));
        Assert.Equal("7.2 mmol/L", RecordView.ObservationValue(new Observation { Value = new Quantity(7.2m, "mmol/L") { Unit = "mmol/L" } }));
    }

    [Fact]
    public void LetterReader_BinaryId_OnlyForBinariesOnTheSourcesOwnServer()
    {
        Assert.Equal("abc-1", LetterReader.BinaryId("Binary/abc-1", "https://src.example/fhir"));
        Assert.Equal("abc-1", LetterReader.BinaryId("https://src.example/fhir/Binary/abc-1", "https://src.example/fhir"));
        Assert.Null(LetterReader.BinaryId("https://elsewhere.example/fhir/Binary/abc-1", "https://src.example/fhir"));
        Assert.Null(LetterReader.BinaryId("Binary/../Patient/1", "https://src.example/fhir"));
        Assert.Null(LetterReader.BinaryId("Patient/1", "https://src.example/fhir"));
    }
}
