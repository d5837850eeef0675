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

    [Theory]
    [InlineData("RBL", "N82054")]
    [InlineData("N82054", "RBL")]
    public void Choose_TwoSourcesDisagreeOneToOneWithNothingToDecide_IsUnresolvedWhicheverCodeIsWhich(string odsOf1980, string odsOf1981)
    {
        // Arrange: the same two records, with the organisation codes swapped between the theory's cases.
        var sources = new List<(string, Patient)>
        {
            (odsOf1980, PatientWith("Smith", "Jane", "1980-03-14", verified: false)),
            (odsOf1981, PatientWith("Smith", "Jane", "1981-03-14", verified: false)),
        };

        // Act
        var choice = ReferenceDemographics.Choose(sources, null);

        // Assert
        Assert.True(ReferenceDemographics.IsTied(sources));
        Assert.True(choice.Unresolved);
        Assert.Same(Demographics.Empty, choice.Reference);
        Assert.Empty(choice.AgreeingOdsCodes);
        Assert.Equal(
            "not chosen: 2 equally weighted groups of the 2 sources disagree on date of birth or family name (N82054; RBL) and no demographics service answered and the sources do not all name the same registered GP practice",
            choice.Basis);
        Assert.DoesNotContain("198", choice.Basis, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("RBL", "N82054")]
    [InlineData("N82054", "RBL")]
    public void Choose_TieAndTheDemographicsServiceAnswers_ItsDateOfBirthWinsWhicheverCodeIsWhich(string odsOf1980, string odsOf1981)
    {
        // Arrange
        var sources = new List<(string, Patient)>
        {
            (odsOf1980, PatientWith("Smith", "Jane", "1980-03-14", verified: true)),
            (odsOf1981, PatientWith("Smith", "Jane", "1981-03-14", verified: true)),
        };
        var service = Demographics.From(PatientWith("SMITH", "Jane", "1981-03-14", verified: true));

        // Act
        var choice = ReferenceDemographics.Choose(sources, null, new TieBreakers(service, new HashSet<string>()));

        // Assert
        Assert.False(choice.Unresolved);
        Assert.Equal("1981-03-14", choice.Reference.BirthDate);
        Assert.Equal([odsOf1981], choice.AgreeingOdsCodes);
        Assert.Equal($"agreed by 1 of 2 sources ({odsOf1981}); chosen over an equally weighted group as confirmed by the demographics service", choice.Basis);
    }

    [Fact]
    public void Choose_TieAndTheDemographicsServiceConfirmsNeither_IsUnresolvedEvenWithARegisteredPractice()
    {
        // Arrange: the service outranks the practice rule, so a service that disagrees with both is not overruled by it.
        var sources = new List<(string, Patient)>
        {
            ("N82054", PatientWith("Smith", "Jane", "1980-03-14", verified: false)),
            ("RBL", PatientWith("Smith", "Jane", "1981-03-14", verified: false)),
        };
        var service = Demographics.From(PatientWith("Smith", "Jane", "1982-03-14", verified: true));

        // Act
        var choice = ReferenceDemographics.Choose(sources, null, new TieBreakers(service, new HashSet<string> { "N82054" }));

        // Assert
        Assert.True(choice.Unresolved);
        Assert.EndsWith("and the demographics service confirmed none of them", choice.Basis, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("N82054", "RBL")]
    [InlineData("RBL", "N82054")]
    public void Choose_TieWithoutTheServiceAndEverySourceNamesOnePractice_ThatPracticesRecordWinsWhicheverCodeIsWhich(string practice, string other)
    {
        // Arrange: the practice holds 1981 in both cases; only the codes' alphabetical order changes.
        var sources = new List<(string, Patient)>
        {
            (other, PatientWith("Smith", "Jane", "1980-03-14", verified: false)),
            (practice, PatientWith("Smith", "Jane", "1981-03-14", verified: false)),
        };

        // Act
        var choice = ReferenceDemographics.Choose(sources, null, new TieBreakers(null, new HashSet<string>(StringComparer.OrdinalIgnoreCase) { practice }));

        // Assert
        Assert.Equal("1981-03-14", choice.Reference.BirthDate);
        Assert.Equal($"agreed by 1 of 2 sources ({practice}); chosen over an equally weighted group as the registered GP practice's record ({practice})", choice.Basis);
    }

    [Fact]
    public void Choose_TieAndTheRegisteredPracticeHoldsNoRecord_IsUnresolved()
    {
        // Arrange
        var sources = new List<(string, Patient)>
        {
            ("N82054", PatientWith("Smith", "Jane", "1980-03-14", verified: false)),
            ("RBL", PatientWith("Smith", "Jane", "1981-03-14", verified: false)),
        };

        // Act
        var choice = ReferenceDemographics.Choose(sources, null, new TieBreakers(null, new HashSet<string> { "Y02345" }));

        // Assert
        Assert.True(choice.Unresolved);
        Assert.EndsWith("the registered GP practice's record does not settle it", choice.Basis, StringComparison.Ordinal);
    }

    [Fact]
    public void Choose_TieButTheCallerGaveADateOfBirth_TheCallerDecides()
    {
        // Arrange
        var sources = new List<(string, Patient)>
        {
            ("N82054", PatientWith("Smith", "Jane", "1980-03-14", verified: false)),
            ("RBL", PatientWith("Smith", "Jane", "1981-03-14", verified: false)),
        };

        // Act
        var choice = ReferenceDemographics.Choose(sources, Demographics.Empty with { BirthDate = "1981-03-14" });

        // Assert
        Assert.False(choice.Unresolved);
        Assert.Equal("1981-03-14", choice.Reference.BirthDate);
        Assert.Equal("Smith", choice.Reference.Family);
        Assert.Equal("supplied by the caller, completed from the sources (agreed by 1 of 2 sources (RBL); chosen over an equally weighted group as agreeing with what the caller supplied)", choice.Basis);
    }

    [Fact]
    public void Assess_UnresolvedTie_NoSourceMatches()
    {
        // Arrange
        var sources = new List<(string, Patient)>
        {
            ("N82054", PatientWith("Smith", "Jane", "1980-03-14", verified: true)),
            ("RBL", PatientWith("Smith", "Jane", "1981-03-14", verified: true)),
        };

        // Act
        var report = SourceCorroboration.Assess(sources, null);

        // Assert
        Assert.All(report.Sources, s => Assert.Equal(CorroborationOutcome.NoMatch, s.Match.Outcome));
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
