using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace WirralCareRecord.Gateway.Tests.Conformance;

public class ConformanceResourcesTests
{
    private const string CanonicalBase = "https://fhir.wirralcarerecord.nhs.uk";

    private static readonly Lazy<string> ConformanceFolder = new(FindConformanceFolder);

    public static TheoryData<string> ConformanceFiles()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.EnumerateFiles(ConformanceFolder.Value, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(ConformanceFolder.Value, path));
        }

        return data;
    }

    [Fact]
    public void ConformanceFolder_Always_HoldsTheGatewayResources()
    {
        // Act
        var files = Directory.EnumerateFiles(ConformanceFolder.Value, "*.json").Select(Path.GetFileName).ToList();

        // Assert
        Assert.Contains("CapabilityStatement-wcr-gateway.json", files);
        Assert.Contains("OperationDefinition-wcr-getrecord.json", files);
        Assert.Contains("CodeSystem-wcr-source-outcome.json", files);
        Assert.Contains("ValueSet-wcr-source-outcome.json", files);
    }

    [Theory]
    [MemberData(nameof(ConformanceFiles))]
    public void ConformanceFile_StrictDeserialization_HasNoIssues(string file)
    {
        // Arrange
        var json = File.ReadAllText(Path.Combine(ConformanceFolder.Value, file));
        var deserializer = new FhirJsonDeserializer(new DeserializerSettings().UsingMode(DeserializationMode.Strict));

        // Act
        var parsed = deserializer.TryDeserializeResource(json, out var resource, out var issues);

        // Assert
        Assert.True(parsed, $"{file}: {string.Join("; ", issues.Select(issue => issue.Message))}");
        Assert.NotNull(resource);
    }

    [Theory]
    [MemberData(nameof(ConformanceFiles))]
    public void ConformanceFile_Name_IsResourceTypeDashId(string file)
    {
        // Act
        var resource = Load<Resource>(file);

        // Assert
        Assert.Equal($"{resource.TypeName}-{resource.Id}.json", Path.GetFileName(file));
    }

    [Theory]
    [MemberData(nameof(ConformanceFiles))]
    public void ConformanceFile_Url_IsCanonicalBaseTypeAndId(string file)
    {
        // Act
        var resource = Load<Resource>(file);

        // Assert: Measure is a canonical resource too, though the SDK does not mark it IConformanceResource.
        var url = resource is Measure measure ? measure.Url : Assert.IsAssignableFrom<IConformanceResource>(resource).Url;
        Assert.StartsWith(CanonicalBase + "/", url, StringComparison.Ordinal);
        Assert.Equal($"{CanonicalBase}/{resource.TypeName}/{resource.Id}", url);
    }

    [Fact]
    public void CapabilityStatement_PatientOperation_IsTheGetRecordOperationDefinition()
    {
        // Arrange
        var operationDefinition = Load<OperationDefinition>("OperationDefinition-wcr-getrecord.json");

        // Act
        var capabilityStatement = Load<CapabilityStatement>("CapabilityStatement-wcr-gateway.json");

        // Assert
        var rest = Assert.Single(capabilityStatement.Rest);
        var patient = Assert.Single(rest.Resource, resource => resource.Type == "Patient");
        var operation = Assert.Single(patient.Operation);
        Assert.Equal(operationDefinition.Code, operation.Name);
        Assert.Equal(operationDefinition.Url, operation.Definition);
        Assert.Equal(FHIRVersion.N4_0_1, capabilityStatement.FhirVersion);
        Assert.Contains("/sources/{odsCode}/fhir/{type}/{id}", rest.Documentation, StringComparison.Ordinal);
    }

    [Fact]
    public void OperationDefinition_GetRecord_TakesOneNhsNumberAndReturnsOneBundle()
    {
        // Act
        var operation = Load<OperationDefinition>("OperationDefinition-wcr-getrecord.json");

        // Assert
        Assert.Equal(new ResourceType?[] { ResourceType.Patient }, operation.Resource);
        Assert.True(operation.Type);
        Assert.False(operation.System);
        Assert.False(operation.Instance);
        Assert.False(operation.AffectsState);
        var input = Assert.Single(operation.Parameter, p => p.Use == OperationParameterUse.In && p.Name == "patientNHSNumber");
        Assert.Equal(("patientNHSNumber", 1, "1"), (input.Name, input.Min, input.Max));
        Assert.Equal(FHIRAllTypes.Identifier.ToString(), input.Type?.ToString());
        Assert.Contains("https://fhir.nhs.uk/Id/nhs-number", input.Documentation, StringComparison.Ordinal);
        var output = Assert.Single(operation.Parameter, p => p.Use == OperationParameterUse.Out);
        Assert.Equal(("return", 1, "1"), (output.Name, output.Min, output.Max));
        Assert.Equal(FHIRAllTypes.Bundle.ToString(), output.Type?.ToString());
    }

    [Theory]
    [InlineData("returned")]
    [InlineData("no-match")]
    [InlineData("failed")]
    [InlineData("timed-out")]
    [InlineData("unreadable")]
    [InlineData("circuit-open")]
    [InlineData("conflict")]
    [InlineData("withheld")]
    [InlineData("demographics-differ")]
    public void CodeSystem_SourceOutcome_DefinesCode(string code)
    {
        // Act
        var codeSystem = Load<CodeSystem>("CodeSystem-wcr-source-outcome.json");

        // Assert
        var concept = Assert.Single(codeSystem.Concept, c => c.Code == code);
        Assert.False(string.IsNullOrWhiteSpace(concept.Display));
        Assert.False(string.IsNullOrWhiteSpace(concept.Definition));
    }

    [Fact]
    public void CodeSystem_SourceOutcome_DefinesEveryOutcomeTheGatewayReports()
    {
        var codeSystem = Load<CodeSystem>("CodeSystem-wcr-source-outcome.json");

        foreach (var outcome in Enum.GetValues<WirralCareRecord.Gateway.Federation.SourceOutcome>())
        {
            Assert.Contains(codeSystem.Concept, c => c.Code == WirralCareRecord.Gateway.Federation.SourceResult.Code(outcome));
        }
    }

    [Fact]
    public void CodeSystem_SourceOutcome_IsCompleteAndCountsItsConcepts()
    {
        // Act
        var codeSystem = Load<CodeSystem>("CodeSystem-wcr-source-outcome.json");

        // Assert
        Assert.Equal(CodeSystemContentMode.Complete, codeSystem.Content);
        Assert.Equal(codeSystem.Concept.Count, codeSystem.Count);
    }

    [Fact]
    public void ValueSet_SourceOutcome_IncludesTheWholeCodeSystem()
    {
        // Arrange
        var codeSystem = Load<CodeSystem>("CodeSystem-wcr-source-outcome.json");

        // Act
        var valueSet = Load<ValueSet>("ValueSet-wcr-source-outcome.json");

        // Assert
        Assert.NotNull(valueSet.Compose);
        var include = Assert.Single(valueSet.Compose.Include);
        Assert.Equal(codeSystem.Url, include.System);
        Assert.Empty(include.Concept);
        Assert.Empty(include.Filter);
        Assert.Equal(valueSet.Url, codeSystem.ValueSet);
    }

    private static T Load<T>(string file)
        where T : Resource
    {
        var json = File.ReadAllText(Path.Combine(ConformanceFolder.Value, file));
        var deserializer = new FhirJsonDeserializer(new DeserializerSettings().UsingMode(DeserializationMode.Strict));
        return Assert.IsAssignableFrom<T>(deserializer.DeserializeResource(json));
    }

    private static string FindConformanceFolder()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "WirralCareRecord.sln")))
            {
                return Path.Combine(directory.FullName, "conformance");
            }
        }

        throw new DirectoryNotFoundException($"No directory above {AppContext.BaseDirectory} contains WirralCareRecord.sln.");
    }
}
