namespace WirralCareRecord.Gateway.Tests.Validation;

/// <summary>The HL7 R4 examples and SMART sample Bundles (<c>Fixtures/r4-examples/</c>) against the base R4 definitions (Hl7.Fhir.Specification.Data.R4), with Firely.Fhir.Validation.</summary>
public class R4ExampleTests
{
    /// <summary>The errors each non-conforming example must show, with why.</summary>
    public static readonly IReadOnlyDictionary<string, (string Location, string Expected)[]> KnownProblems = new Dictionary<string, (string, string)[]>
    {
        // SMART sample data converted from STU3 leaves out elements R4 made required.
        ["SmartPatientA.json"] =
        [
            ("Bundle.entry[10].resource[0].participant[0]", "Missing required member: 'status'"),
            ("Bundle.entry[11].resource[0].series[0].instance[0]", "Missing required member: 'sopClass'"),
            ("Bundle.entry[11].resource[0].series[0]", "Missing required member: 'modality'"),
        ],
    };

    public static TheoryData<string> Examples()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Definitions.Fixture("r4-examples"), "*.json").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void R4Example_AgainstTheBaseDefinition_ConformsUnlessAKnownProblem(string file)
    {
        // Arrange
        var (resource, problems) = Definitions.Read(Definitions.Fixture("r4-examples", file));
        Assert.True(resource is not null, string.Join("; ", problems));

        // Act
        var outcome = Definitions.Engine.Validate(resource, Definitions.Core + resource.TypeName);

        // Assert
        var errors = outcome.Errors();
        var expected = KnownProblems.GetValueOrDefault(file, []);
        Assert.True(
            expected.Length == errors.Count && expected.All(e => errors.Any(i => i.Expression.Single() == e.Location && i.Diagnostics == e.Expected)),
            $"{file}:{Environment.NewLine}{errors.Describe()}");
    }
}
