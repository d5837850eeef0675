using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Tests.PatientMatching;

public class ReferenceDemographicsTests
{
    [Fact]
    public void Choose_ThreeOfFourSourcesAgree_ChoosesTheMajority()
    {
        // Arrange
        var sources = new List<(string, Patient)>
        {
            ("RBL", PatientWith("Smith", "Jane", "1980-03-14", verified: false)),
            ("N82054", PatientWith("SMITH", "Jane", "1980-03-14", verified: false)),
            ("A1B2C", PatientWith("Smith", "Jane", "1980-03-14", verified: false)),
            ("RVY", PatientWith("Smyth", "Jane", "1980-03-14", verified: false)),
        };

        // Act
        var choice = ReferenceDemographics.Choose(sources, null);

        // Assert
        Assert.Equal("Smith", choice.Reference.Family, ignoreCase: true);
        Assert.Equal("1980-03-14", choice.Reference.BirthDate);
        Assert.Equal(["A1B2C", "N82054", "RBL"], choice.AgreeingOdsCodes);
        Assert.Equal("agreed by 3 of 4 sources (A1B2C, N82054, RBL)", choice.Basis);
    }

    [Fact]
    public void Choose_VerifiedSourceAgainstOneUnverified_VerifiedWins()
    {
        // Arrange: the unverified source's code sorts first, so only the weighting can pick the verified one.
        var sources = new List<(string, Patient)>
        {
            ("AAA", PatientWith("Smyth", "Jane", "1980-03-14", verified: false)),
            ("ZZZ", PatientWith("Smith", "Jane", "1980-03-14", verified: true)),
        };

        // Act
        var choice = ReferenceDemographics.Choose(sources, null);

        // Assert
        Assert.Equal("Smith", choice.Reference.Family);
        Assert.True(choice.Reference.NhsNumberVerified);
        Assert.Equal("agreed by 1 of 2 sources (ZZZ)", choice.Basis);
    }

    [Fact]
    public void Choose_OneVerifiedAgainstTwoUnverified_TieGoesToVerified()
    {
        // Arrange: 2 (one verified) against 1 + 1 (two unverified).
        var sources = new List<(string, Patient)>
        {
            ("AAA", PatientWith("Smyth", "Jane", "1980-03-14", verified: false)),
            ("BBB", PatientWith("Smyth", "Jane", "1980-03-14", verified: false)),
            ("ZZZ", PatientWith("Smith", "Jane", "1980-03-14", verified: true)),
        };

        // Act
        var choice = ReferenceDemographics.Choose(sources, null);

        // Assert
        Assert.Equal("Smith", choice.Reference.Family);
        Assert.Equal("agreed by 1 of 3 sources (ZZZ); chosen over an equally weighted group for having more verified NHS numbers", choice.Basis);
    }

    [Fact]
    public void Choose_ThreeUnverifiedAgainstOneVerified_MajorityWins()
    {
        // Arrange: 3 against 2.
        var sources = new List<(string, Patient)>
        {
            ("AAA", PatientWith("Smyth", "Jane", "1980-03-14", verified: false)),
            ("BBB", PatientWith("Smyth", "Jane", "1980-03-14", verified: false)),
            ("CCC", PatientWith("Smyth", "Jane", "1980-03-14", verified: false)),
            ("ZZZ", PatientWith("Smith", "Jane", "1980-03-14", verified: true)),
        };

        // Act
        var choice = ReferenceDemographics.Choose(sources, null);

        // Assert
        Assert.Equal("Smyth", choice.Reference.Family);
        Assert.Equal(["AAA", "BBB", "CCC"], choice.AgreeingOdsCodes);
    }

    [Fact]
    public void Choose_EqualWeightsInEitherOrder_BreaksTheTieByOdsCode()
    {
        // Arrange
        var first = ("RBL", PatientWith("Smith", "Jane", "1980-03-14", verified: false));
        var second = ("N82054", PatientWith("Smith", "Jane", "1981-03-14", verified: false));

        // Act
        var forwards = ReferenceDemographics.Choose([first, second], null);
        var backwards = ReferenceDemographics.Choose([second, first], null);

        // Assert
        Assert.Equal("1981-03-14", forwards.Reference.BirthDate);
        Assert.Equal(forwards.Reference.BirthDate, backwards.Reference.BirthDate);
        Assert.Equal(forwards.Basis, backwards.Basis);
        Assert.Equal("agreed by 1 of 2 sources (N82054); chosen over an equally weighted group by organisation code order", forwards.Basis);
    }

    [Fact]
    public void Choose_CallerSuppliedDemographics_WinOverTheSources()
    {
        // Arrange
        var sources = new List<(string, Patient)>
        {
            ("RBL", PatientWith("Smith", "Jane", "1980-03-14", verified: true)),
            ("N82054", PatientWith("Smith", "Jane", "1980-03-14", verified: true)),
        };
        var supplied = new Demographics("Jones", ["Mary"], "1975-01-01", AdministrativeGender.Female, "CH41 6EY", false);

        // Act
        var choice = ReferenceDemographics.Choose(sources, supplied);

        // Assert
        Assert.Equal("Jones", choice.Reference.Family);
        Assert.Equal("1975-01-01", choice.Reference.BirthDate);
        Assert.Equal("CH416EY", choice.Reference.Postcode);
        Assert.Equal("supplied by the caller", choice.Basis);
        Assert.Empty(choice.AgreeingOdsCodes);
    }

    [Fact]
    public void Choose_CallerSuppliedDateOfBirthOnly_FillsTheRestFromTheMajority()
    {
        // Arrange
        var sources = new List<(string, Patient)>
        {
            ("RBL", PatientWith("Smith", "Jane", "1980-03-14", verified: true)),
            ("N82054", PatientWith("Smith", "Jane", "1980-03-14", verified: false)),
        };
        var supplied = Demographics.Empty with { BirthDate = "1980-03-14" };

        // Act
        var choice = ReferenceDemographics.Choose(sources, supplied);

        // Assert
        Assert.Equal("Smith", choice.Reference.Family);
        Assert.Equal(["Jane"], choice.Reference.Given);
        Assert.Equal(AdministrativeGender.Female, choice.Reference.Gender);
        Assert.Equal("supplied by the caller, completed from the sources (agreed by 2 of 2 sources (N82054, RBL))", choice.Basis);
    }

    [Fact]
    public void Choose_CallerSuppliedNoDateOfBirthOrFamilyName_UsesTheSources()
    {
        // Arrange
        var sources = new List<(string, Patient)> { ("RBL", PatientWith("Smith", "Jane", "1980-03-14", verified: true)) };
        var supplied = Demographics.Empty with { Given = ["Mary"] };

        // Act
        var choice = ReferenceDemographics.Choose(sources, supplied);

        // Assert
        Assert.Equal(["Jane"], choice.Reference.Given);
        Assert.Equal("from the only source (RBL)", choice.Basis);
    }

    [Fact]
    public void Choose_SourceWithoutDemographics_DoesNotVote()
    {
        // Arrange
        var empty = new Patient { Id = "x" };
        var sources = new List<(string, Patient)> { ("AAA", empty), ("BBB", PatientWith("Smith", "Jane", "1980-03-14", verified: false)) };

        // Act
        var choice = ReferenceDemographics.Choose(sources, null);

        // Assert
        Assert.Equal("Smith", choice.Reference.Family);
        Assert.Equal("agreed by 1 of 2 sources (BBB)", choice.Basis);
    }

    [Fact]
    public void Choose_NoSources_GivesEmptyReference()
    {
        // Act
        var choice = ReferenceDemographics.Choose([], null);

        // Assert
        Assert.Same(Demographics.Empty, choice.Reference);
        Assert.Equal("no sources hold this patient", choice.Basis);
    }

    [Fact]
    public void Choose_WinningGroupMembersDifferInGivenName_TakesVerifiedSourceFirst()
    {
        // Arrange
        var sources = new List<(string, Patient)>
        {
            ("AAA", PatientWith("Smith", "J", "1980-03-14", verified: false)),
            ("ZZZ", PatientWith("Smith", "Jane", "1980-03-14", verified: true)),
        };

        // Act
        var choice = ReferenceDemographics.Choose(sources, null);

        // Assert
        Assert.Equal(["Jane"], choice.Reference.Given);
    }

    [Fact]
    public void Assess_MajorityReference_JudgesEachSourceAgainstIt()
    {
        // Arrange
        var sources = new List<(string, Patient)>
        {
            ("RBL", PatientWith("Smith", "Jane", "1980-03-14", verified: true)),
            ("N82054", PatientWith("Smith", "Jane", "1980-03-14", verified: true)),
            ("RVY", PatientWith("Smith", "Jane", "1981-03-14", verified: false)),
            ("Y02345", PatientWith("Smith", "Jayne", "1980-03-14", verified: false)),
        };

        // Act
        var report = SourceCorroboration.Assess(sources, null);

        // Assert
        Assert.Equal("agreed by 3 of 4 sources (N82054, RBL, Y02345)", report.Reference.Basis);
        Assert.Equal(
            [("RBL", CorroborationOutcome.Match), ("N82054", CorroborationOutcome.Match), ("RVY", CorroborationOutcome.NoMatch), ("Y02345", CorroborationOutcome.Match)],
            report.Sources.Select(s => (s.OdsCode, s.Match.Outcome)));
        Assert.Contains("date of birth differs", report.Sources[2].Match.Reasons);
    }

    internal static Patient PatientWith(string family, string given, string birthDate, bool verified, AdministrativeGender gender = AdministrativeGender.Female)
    {
        var identifier = new Identifier(NhsNumber.System, "9000000009");
        if (verified)
        {
            identifier.Extension.Add(new Extension(
                Demographics.VerificationStatusExtension,
                new CodeableConcept("https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland", Demographics.VerifiedCode)));
        }

        return new Patient
        {
            Id = Guid.NewGuid().ToString("N"),
            Identifier = [identifier],
            Name = [new HumanName { Use = HumanName.NameUse.Official, Family = family, Given = [given] }],
            BirthDate = birthDate,
            Gender = gender,
        };
    }
}
