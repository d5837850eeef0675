using System.Xml;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Tests.PatientMatching;

/// <summary>
/// Demographics from published examples: HL7 UK Core example Patients (XML) and the NHS England PDS FHIR API sandbox
/// Patients (JSON), copied into Fixtures/patients (see its README).
/// </summary>
public class PublishedPatientDemographicsTests
{
    private const string RichardSmith = "UKCore-Patient-RichardSmith-Example.xml";
    private const string BabyJones = "UKCore-Patient-BabyPatient-Example.xml";
    private const string JaneSmith = "pds-Patient.json";
    private const string JayneSmyth = "pds-Patient-Jayne-Smyth.json";
    private const string JanetSmythe = "pds-Sensitive_Patient.json";
    private const string JohnPaulSmith = "pds-PatientCompoundName.json";
    private const string Minimal = "pds-Minimal_Patient.json";

    public static TheoryData<string> NamedPatients() => [RichardSmith, BabyJones, JaneSmith, JayneSmyth, JanetSmythe, JohnPaulSmith];

    [Theory]
    [MemberData(nameof(NamedPatients))]
    public void Compare_PublishedPatientWithItself_IsMatch(string file)
    {
        // Arrange
        var demographics = Demographics.From(Load(file));

        // Act
        var match = DemographicMatcher.Compare(demographics, demographics);

        // Assert
        Assert.Equal(CorroborationOutcome.Match, match.Outcome);
        Assert.DoesNotContain(match.Reasons, r => r.Contains("differs", StringComparison.Ordinal));
    }

    [Fact]
    public void From_UkCoreRichardSmith_ReadsPublishedDemographics()
    {
        // Act
        var demographics = Demographics.From(Load(RichardSmith));

        // Assert
        Assert.Equal(
            new Demographics("SMITH", demographics.Given, "1970-09-11", AdministrativeGender.Male, "LS177DF", true),
            demographics);
        Assert.Equal(["Richard"], demographics.Given);
    }

    [Fact]
    public void From_PdsSandboxPatient_ReadsUsualNameHomePostcodeAndVerification()
    {
        // Act
        var demographics = Demographics.From(Load(JaneSmith));

        // Assert
        Assert.Equal(
            new Demographics("Smith", demographics.Given, "2010-10-22", AdministrativeGender.Female, "LS16AE", true),
            demographics);
        Assert.Equal(["Jane"], demographics.Given);
    }

    [Fact]
    public void Compare_RichardSmithWithOneLetterFamilyTypo_IsMatchNoted()
    {
        // Arrange
        var original = Load(RichardSmith);
        var copy = (Patient)original.DeepCopy();
        copy.Name[0].Family = "SMYTH";

        // Act
        var match = DemographicMatcher.Compare(Demographics.From(original), Demographics.From(copy));

        // Assert: given name and full date of birth agree, so one letter in the family name is tolerated.
        Assert.Equal(CorroborationOutcome.Match, match.Outcome);
        Assert.Contains("family name differs by one letter", match.Reasons);
        DemographicMatcherTests.AssertReasonsDisclose(match, "SMYTH", "SMITH", "Richard", "1970-09-11");
    }

    [Fact]
    public void Compare_RichardSmithWithFamilyTypoAndNoDay_IsPossibleMatch()
    {
        // Arrange
        var original = Load(RichardSmith);
        var copy = (Patient)original.DeepCopy();
        copy.Name[0].Family = "SMIHT";
        copy.BirthDate = "1970-09";

        // Act
        var match = DemographicMatcher.Compare(Demographics.From(original), Demographics.From(copy));

        // Assert
        Assert.Equal(CorroborationOutcome.PossibleMatch, match.Outcome);
        Assert.Contains("family name differs by one letter", match.Reasons);
        Assert.Contains("date of birth agrees, but only the year and month are recorded at one source", match.Reasons);
    }

    [Theory]
    [InlineData(RichardSmith, "1970-09-12")]
    [InlineData(BabyJones, "2021-02-12")]
    [InlineData(JaneSmith, "2011-10-22")]
    public void Compare_PublishedPatientWithAnotherDateOfBirth_IsNoMatch(string file, string otherBirthDate)
    {
        // Arrange
        var original = Load(file);
        var copy = (Patient)original.DeepCopy();
        copy.BirthDate = otherBirthDate;

        // Act
        var match = DemographicMatcher.Compare(Demographics.From(original), Demographics.From(copy));

        // Assert
        Assert.Equal(CorroborationOutcome.NoMatch, match.Outcome);
        Assert.Contains("date of birth differs", match.Reasons);
        DemographicMatcherTests.AssertReasonsDisclose(match, otherBirthDate, original.BirthDate);
    }

    [Fact]
    public void Compare_UkCoreBabyBeforeNaming_IsMatchNoted()
    {
        // Arrange: the same baby as registered at birth, before a given name was recorded.
        var named = Load(BabyJones);
        var unnamed = (Patient)named.DeepCopy();
        unnamed.Name[0].Given = [];

        // Act
        var match = DemographicMatcher.Compare(Demographics.From(named), Demographics.From(unnamed));

        // Assert
        Assert.Equal(CorroborationOutcome.Match, match.Outcome);
        Assert.Contains("given name not recorded at one source (for example, a baby not yet named)", match.Reasons);
    }

    [Fact]
    public void Compare_PdsJaneSmithAndJayneSmyth_IsPossibleMatch()
    {
        // Arrange: the PDS sandbox's near-namesakes, same date of birth: one letter off in both names.
        var reference = Demographics.From(Load(JaneSmith));
        var candidate = Demographics.From(Load(JayneSmyth));

        // Act
        var match = DemographicMatcher.Compare(reference, candidate);

        // Assert
        Assert.Equal(CorroborationOutcome.PossibleMatch, match.Outcome);
        Assert.Contains("family name differs by one letter", match.Reasons);
        Assert.Contains("given name differs by one letter", match.Reasons);
        DemographicMatcherTests.AssertReasonsDisclose(match, "Jayne", "Smyth", "Jane", "Smith", "2010-10-22");
    }

    [Fact]
    public void Compare_PdsJaneSmithAndJanetSmythe_IsNoMatch()
    {
        // Act: Smith and Smythe are two letters apart.
        var match = DemographicMatcher.Compare(Demographics.From(Load(JaneSmith)), Demographics.From(Load(JanetSmythe)));

        // Assert
        Assert.Equal(CorroborationOutcome.NoMatch, match.Outcome);
        Assert.Contains("family name differs", match.Reasons);
        DemographicMatcherTests.AssertReasonsDisclose(match, "Janet", "Smythe");
    }

    [Fact]
    public void Compare_PdsJaneSmithAndJohnPaulSmith_IsPossibleMatch()
    {
        // Act: same family name and date of birth, different given name and gender: like twins.
        var match = DemographicMatcher.Compare(Demographics.From(Load(JaneSmith)), Demographics.From(Load(JohnPaulSmith)));

        // Assert
        Assert.Equal(CorroborationOutcome.PossibleMatch, match.Outcome);
        Assert.Contains("given name differs", match.Reasons);
        Assert.Contains("recorded gender differs", match.Reasons);
        DemographicMatcherTests.AssertReasonsDisclose(match, "John Paul", "John", "Paul");
    }

    [Fact]
    public void Compare_PdsCompoundGivenNameAgainstFirstNameOnly_IsMatch()
    {
        // Arrange: PDS sends "John Paul" as one given name; another source records only "John".
        var reference = Demographics.From(Load(JohnPaulSmith));
        var candidate = reference with { Given = ["John"] };

        // Act
        var match = DemographicMatcher.Compare(reference, candidate);

        // Assert
        Assert.Equal(CorroborationOutcome.Match, match.Outcome);
        Assert.Contains("given name matches on the first name only", match.Reasons);
    }

    [Fact]
    public void Compare_PdsMinimalPatient_IsPossibleMatch()
    {
        // Act: the minimal record holds the NHS number and nothing else to corroborate it with.
        var match = DemographicMatcher.Compare(Demographics.From(Load(JaneSmith)), Demographics.From(Load(Minimal)));

        // Assert
        Assert.Equal(CorroborationOutcome.PossibleMatch, match.Outcome);
        Assert.Contains("date of birth not recorded at one source", match.Reasons);
        Assert.Contains("family name not recorded at one source", match.Reasons);
    }

    [Theory]
    [InlineData(BabyJones, "9912003890", false)]
    [InlineData(JohnPaulSmith, "9000000015", false)]
    [InlineData(RichardSmith, "9912003888", true)]
    [InlineData(JaneSmith, "9000000009", true)]
    public void NhsNumberCheck_PublishedPatientNumber_ChecksTheCheckDigit(string file, string expectedNumber, bool expectedValid)
    {
        // Arrange: some published examples carry NHS numbers whose Modulus 11 check digit is wrong.
        var number = Load(file).Identifier.Single(i => i.System == NhsNumber.System).Value;

        // Act
        var check = NhsNumber.Check(number);

        // Assert
        Assert.Equal(expectedNumber, number);
        Assert.Equal(expectedValid, check.IsValid);
        if (!expectedValid)
        {
            Assert.Equal("The NHS number's check digit does not match (Modulus 11): check it was typed correctly.", check.Problem);
        }
    }

    [Fact]
    public void Choose_PublishedPdsPatients_VerifiedMajorityWins()
    {
        // Arrange: all four are verified in PDS; two agree on Smith, 2010-10-22.
        var sources = new List<(string, Patient)>
        {
            ("Y12345", Load(JaneSmith)),
            ("Y23456", Load(JayneSmyth)),
            ("Y34567", Load(JanetSmythe)),
            ("Y45678", Load(JohnPaulSmith)),
            ("Y56789", Load(Minimal)),
        };

        // Act
        var report = SourceCorroboration.Assess(sources, null);

        // Assert
        Assert.Equal("Smith", report.Reference.Reference.Family);
        Assert.Equal("agreed by 2 of 5 sources (Y12345, Y45678)", report.Reference.Basis);
        Assert.Equal(
            [CorroborationOutcome.Match, CorroborationOutcome.PossibleMatch, CorroborationOutcome.NoMatch, CorroborationOutcome.PossibleMatch, CorroborationOutcome.PossibleMatch],
            report.Sources.Select(s => s.Match.Outcome));
    }

    private static Patient Load(string file)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "patients", file);
        var settings = new DeserializerSettings().UsingMode(DeserializationMode.Strict);
        Resource resource;
        if (file.EndsWith(".xml", StringComparison.Ordinal))
        {
            using var reader = XmlReader.Create(path);
            Assert.True(new FhirXmlDeserializer(settings).TryDeserializeResource(reader, out var parsed, out var issues), string.Join("; ", issues));
            resource = parsed!;
        }
        else
        {
            Assert.True(new FhirJsonDeserializer(settings).TryDeserializeResource(File.ReadAllText(path), out var parsed, out var issues), string.Join("; ", issues));
            resource = parsed!;
        }

        // The compound-name example is published as a searchset Bundle holding the one Patient.
        return resource is Bundle bundle ? Assert.IsType<Patient>(Assert.Single(bundle.Entry).Resource) : Assert.IsType<Patient>(resource);
    }
}
