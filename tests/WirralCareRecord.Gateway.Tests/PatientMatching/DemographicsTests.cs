using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Tests.PatientMatching;

public class DemographicsTests
{
    [Fact]
    public void From_OfficialUsualAndMaidenNames_ReadsOfficial()
    {
        // Arrange
        var patient = new Patient
        {
            Name =
            [
                new HumanName { Use = HumanName.NameUse.Maiden, Family = "Jones", Given = ["Mary"] },
                new HumanName { Use = HumanName.NameUse.Usual, Family = "Smith", Given = ["Molly"] },
                new HumanName { Use = HumanName.NameUse.Official, Family = "Smith", Given = ["Mary", "Anne"] },
            ],
        };

        // Act
        var demographics = Demographics.From(patient);

        // Assert
        Assert.Equal("Smith", demographics.Family);
        Assert.Equal(["Mary", "Anne"], demographics.Given);
        Assert.Equal("Mary", demographics.FirstGiven);
    }

    [Fact]
    public void From_UsualAndUnlabelledNames_ReadsUsual()
    {
        // Arrange
        var patient = new Patient
        {
            Name = [new HumanName { Family = "Jones" }, new HumanName { Use = HumanName.NameUse.Usual, Family = "Smith" }],
        };

        // Act
        var demographics = Demographics.From(patient);

        // Assert
        Assert.Equal("Smith", demographics.Family);
        Assert.Empty(demographics.Given);
    }

    [Fact]
    public void From_WorkAndHomeAddresses_ReadsHomePostcodeNormalised()
    {
        // Arrange
        var patient = new Patient
        {
            Address =
            [
                new Address { Use = Address.AddressUse.Work, PostalCode = "L1 8JQ" },
                new Address { Use = Address.AddressUse.Home, PostalCode = " ch41 6ey " },
            ],
        };

        // Act
        var demographics = Demographics.From(patient);

        // Assert
        Assert.Equal("CH416EY", demographics.Postcode);
    }

    [Fact]
    public void From_NoHomeAddress_ReadsFirstAddress()
    {
        // Arrange
        var patient = new Patient
        {
            Address = [new Address { Use = Address.AddressUse.Temp, PostalCode = "PR8 4QT" }, new Address { Use = Address.AddressUse.Work, PostalCode = "L1 8JQ" }],
        };

        // Act
        var demographics = Demographics.From(patient);

        // Assert
        Assert.Equal("PR84QT", demographics.Postcode);
    }

    [Theory]
    [InlineData("01", true)]
    [InlineData("02", false)]
    [InlineData(null, false)] // no extension: unknown, which counts as unverified
    public void From_VerificationStatus_ReadsVerifiedOnlyForCode01(string? code, bool expected)
    {
        // Arrange
        var identifier = new Identifier(NhsNumber.System, "9000000009");
        if (code is not null)
        {
            identifier.Extension.Add(new Extension(
                Demographics.VerificationStatusExtension,
                new CodeableConcept("https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland", code)));
        }

        var patient = new Patient { Identifier = [identifier] };

        // Act
        var demographics = Demographics.From(patient);

        // Assert
        Assert.Equal(expected, demographics.NhsNumberVerified);
    }

    [Fact]
    public void From_VerifiedExtensionOnAnotherIdentifier_IsNotVerified()
    {
        // Arrange
        var local = new Identifier("https://fhir.example.nhs.uk/Id/local-mrn", "12345");
        local.Extension.Add(new Extension(Demographics.VerificationStatusExtension, new CodeableConcept("https://example", Demographics.VerifiedCode)));
        var patient = new Patient { Identifier = [local, new Identifier(NhsNumber.System, "9000000009")] };

        // Act
        var demographics = Demographics.From(patient);

        // Assert
        Assert.False(demographics.NhsNumberVerified);
    }
}
