namespace WirralCareRecord.Gateway.Tests.Validation;

/// <summary>
/// Every UK Core example (215, <c>Fixtures/ukcore-examples/</c>, copied from UK Core 2.0.0) against the UK Core
/// profile it illustrates, with Firely.Fhir.Validation. Each failure is a problem in the published example, listed in
/// <see cref="KnownProblems"/> with the reason. The blood pressure example conforms only because profiles/ holds a
/// corrected UKCore-Observation-VitalSigns-BloodPressure (see profiles/README.md).
/// </summary>
public class UkCoreExampleTests
{
    /// <summary>The examples that do not conform, the error the validator must report for each, and why it is right.</summary>
    public static readonly IReadOnlyDictionary<string, (string Location, string Expected, string Reason)> KnownProblems = new Dictionary<string, (string, string, string)>
    {
        ["Extension-UKCore-ConditionEpisode-Example.xml"] = (
            "(unreadable)",
            "is not of type \"Hl7.Fhir.Model.CodeableConcept\"",
            "The extension carries two values, valueCode and valueCodeableConcept; an extension has at most one value[x], so the instance cannot be read."),
        ["Extension-UKCore-RecordingSetting-Example.xml"] = (
            "Observation.extension[0]",
            "Unable to resolve reference to extension 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-RcordingSetting'",
            "The extension URL is misspelt ('RcordingSetting'); UK Core defines Extension-UKCore-RecordingSetting. An unknown extension in a namespace the gateway holds is an error."),
        ["UKCore-Bundle-Sn-NoAllergyData-Example.xml"] = (
            "Bundle.link[0].url[0]",
            "is not a valid URI",
            "The search link keeps the documentation placeholder 'https://[base]/...'; square brackets are not allowed in a URI's host."),
    };

    public static TheoryData<string> Examples() => [.. Files()];

    private static IEnumerable<string> Files() =>
        Directory.EnumerateFiles(Definitions.Fixture("ukcore-examples"), "*.xml").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);

    [Theory]
    [MemberData(nameof(Examples))]
    public void UkCoreExample_AgainstItsProfile_ConformsUnlessAKnownProblem(string file)
    {
        // Arrange
        var (resource, problems) = Definitions.Read(Definitions.Fixture("ukcore-examples", file));
        var known = KnownProblems.TryGetValue(file, out var problem);

        // Act
        var outcome = resource is null ? null : Definitions.Engine.Validate(resource, UkCoreExamples.ProfileFor(file, resource.TypeName));

        // Assert
        if (outcome is null)
        {
            Assert.True(known, $"{file} could not be read: {string.Join("; ", problems)}");
            Assert.Contains(problems, p => p.Contains(problem.Expected, StringComparison.Ordinal));
            return;
        }

        var errors = outcome.Errors();
        if (!known)
        {
            Assert.True(errors.Count == 0, $"{file}:{Environment.NewLine}{errors.Describe()}");
            return;
        }

        var error = Assert.Single(errors);
        Assert.Equal(problem.Location, Assert.Single(error.Expression));
        Assert.Contains(problem.Expected, error.Diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public void UkCoreExamples_All_212Of215Conform()
    {
        // Act
        var results = Files().Select(file =>
        {
            var (resource, _) = Definitions.Read(Definitions.Fixture("ukcore-examples", file));
            return resource is not null && Definitions.Engine.Validate(resource, UkCoreExamples.ProfileFor(file, resource.TypeName)).Success;
        }).ToList();

        // Assert
        Assert.Equal(215, results.Count);
        Assert.Equal(212, results.Count(conforms => conforms));
    }

    [Theory]
    [InlineData("UKCore-Patient-RichardSmith-Example.xml", "Patient", "UKCore-Patient")]
    [InlineData("UKCore-Observation-Lab-Albumin-Example.xml", "Observation", "UKCore-Observation-Lab")]
    [InlineData("UKCore-Observation-VitalSigns-RespiratoryRate-Example.xml", "Observation", "UKCore-Observation-VitalSigns-RespirationRate")]
    [InlineData("Extension-UKCore-BirthSex-Example.xml", "Patient", "UKCore-Patient")]
    public void ProfileFor_Example_IsTheProfileItIllustrates(string file, string type, string profile)
    {
        // Act
        var url = UkCoreExamples.ProfileFor(file, type);

        // Assert
        Assert.Equal(Definitions.UkCore + profile, url);
        Assert.True(Definitions.Engine.HasProfile(url));
    }
}
