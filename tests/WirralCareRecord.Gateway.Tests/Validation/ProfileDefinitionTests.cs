using System.Text.Json;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Tests.Validation;

/// <summary>The profiles in <c>profiles/</c> build and hang together, and the CapabilityStatement points only at what exists.</summary>
public class ProfileDefinitionTests
{
    private const string CanonicalBase = "https://fhir.wirralcarerecord.nhs.uk";

    public static TheoryData<string> ProfileFiles() => FilesLike("StructureDefinition-WCR-*.json");

    public static TheoryData<string> ExtensionFiles() => FilesLike("StructureDefinition-wcr-*.json");

    [Fact]
    public void ProfilesFolder_HoldsOnlyProfilesAndExtensions()
    {
        // Act
        var files = FilesLike("*.json");

        // Assert: a file named any other way would be checked by neither set of tests below.
        Assert.Equal(files.Count, ProfileFiles().Count + ExtensionFiles().Count);
    }

    [Theory]
    [MemberData(nameof(ExtensionFiles))]
    public void WirralExtension_IsNamedByConventionAndCompiles(string file)
    {
        // Arrange
        var extension = Read<StructureDefinition>(file);

        // Act
        var generated = Assert.IsType<StructureDefinition>(Definitions.Engine.Resolve(extension.Url!));

        // Assert
        Assert.Equal($"StructureDefinition-{extension.Id}.json", file);
        Assert.Equal($"{CanonicalBase}/StructureDefinition/{extension.Id}", extension.Url);
        Assert.Equal("Extension", extension.Type);
        Assert.Equal(StructureDefinition.TypeDerivationRule.Constraint, extension.Derivation);
        Assert.NotEmpty(extension.Context);
        Assert.True(generated.Snapshot!.Element.Count > extension.Differential.Element.Count);
    }

    [Theory]
    [MemberData(nameof(ProfileFiles))]
    public void WirralProfile_Snapshot_GeneratesWithoutErrors(string file)
    {
        // Arrange
        var profile = Read<StructureDefinition>(file);

        // Act
        var generated = Assert.IsType<StructureDefinition>(Definitions.Engine.Resolve(profile.Url!));
        var empty = Definitions.Engine.Validate((Resource)Activator.CreateInstance(ModelInfo.GetTypeForFhirType(profile.Type!)!)!, profile.Url);

        // Assert: a snapshot, and a schema Firely compiles (an empty instance fails on content, never on the profile).
        Assert.True(generated.Snapshot!.Element.Count > profile.Differential.Element.Count);
        Assert.DoesNotContain(empty.Issue, i => i.Code == OperationOutcome.IssueType.Exception || i.Code == OperationOutcome.IssueType.NotSupported);
    }

    [Theory]
    [MemberData(nameof(ProfileFiles))]
    public void WirralProfile_File_IsNamedAndAddressedByConvention(string file)
    {
        // Act
        var profile = Read<StructureDefinition>(file);

        // Assert
        Assert.Equal($"StructureDefinition-{profile.Id}.json", file);
        Assert.Equal($"{CanonicalBase}/StructureDefinition/{profile.Id}", profile.Url);
        Assert.StartsWith("WCR-", profile.Id, StringComparison.Ordinal);
        Assert.StartsWith(Definitions.UkCore + "UKCore-", profile.BaseDefinition, StringComparison.Ordinal);
        Assert.Equal(StructureDefinition.TypeDerivationRule.Constraint, profile.Derivation);
        Assert.Empty(profile.Snapshot?.Element ?? []);
    }

    [Theory]
    [MemberData(nameof(ProfileFiles))]
    public void WirralProfile_Bindings_NameValueSetsThatExist(string file)
    {
        // Arrange
        var profile = Read<StructureDefinition>(file);

        // Act
        var missing = profile.Differential.Element
            .Where(e => e.Binding?.ValueSet is not null)
            .Select(e => e.Binding.ValueSet!)
            .Where(url => Definitions.Engine.Resolve(url) is not ValueSet)
            .ToList();

        // Assert
        Assert.Empty(missing);
    }

    [Fact]
    public void WirralProfiles_CoverThePatientTheRecordTypesAndTheGatewaysOwnResources()
    {
        // Act
        var types = Definitions.Engine.WirralProfiles.Keys.Order(StringComparer.Ordinal).ToList();

        // Assert
        var expected = new FederationOptions().RecordTypes.Concat(["Patient", "Provenance", "AuditEvent", "Bundle"]).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, types);
    }

    [Fact]
    public void UkCoreProfiles_AllCompile()
    {
        // Act
        var failed = Directory.EnumerateFiles(Path.Combine(Definitions.Profiles, "ukcore", "structuredefinitions"), "UKCore-*.xml")
            .Select(file => Definitions.UkCore + Path.GetFileNameWithoutExtension(file))
            .Where(url => Definitions.Engine.Resolve(url) is not StructureDefinition { Snapshot.Element.Count: > 0 })
            .ToList();

        // Assert
        Assert.Empty(failed);
    }

    [Fact]
    public void CapabilityStatement_References_OnlyDefinitionsThatExist()
    {
        // Arrange
        var capability = ReadConformance<CapabilityStatement>("CapabilityStatement-wcr-gateway.json");
        var operations = Directory.EnumerateFiles(Gateway.Validation.ValidationOptions.Conformance, "OperationDefinition-*.json")
            .Select(f => ReadConformance<OperationDefinition>(Path.GetFileName(f)).Url)
            .ToHashSet(StringComparer.Ordinal);

        // Act
        var rest = Assert.Single(capability.Rest);
        var profiles = rest.Resource.SelectMany(r => r.SupportedProfile.Append(r.Profile)).OfType<string>().ToList();
        var definitions = rest.Resource.SelectMany(r => r.Operation).Concat(rest.Operation).Select(o => o.Definition!).ToList();

        // Assert
        Assert.NotEmpty(profiles);
        Assert.All(profiles, url => Assert.True(Definitions.Engine.HasProfile(url), $"{url} is not a known StructureDefinition"));
        Assert.All(definitions, url => Assert.True(operations.Contains(url) || Definitions.Engine.Resolve(url) is OperationDefinition, $"{url} is not a known OperationDefinition"));
        Assert.All(rest.Resource, r => Assert.All(r.SupportedProfile, url => Assert.Equal(r.Type.ToString(), Assert.IsType<StructureDefinition>(Definitions.Engine.Resolve(url!)).Type)));
    }

    [Fact]
    public void CapabilityStatement_DeclaresEveryWirralProfileAndValidate()
    {
        // Arrange
        var capability = ReadConformance<CapabilityStatement>("CapabilityStatement-wcr-gateway.json");

        // Act
        var declared = capability.Rest.Single().Resource.SelectMany(r => r.SupportedProfile).ToHashSet(StringComparer.Ordinal);

        // Assert
        Assert.All(Definitions.Engine.WirralProfiles.Values, url => Assert.Contains(url, declared));
        var validate = Assert.Single(capability.Rest.Single().Operation);
        Assert.Equal(("validate", "http://hl7.org/fhir/OperationDefinition/Resource-validate"), (validate.Name, validate.Definition));
    }

    private static T Read<T>(string file) where T : Resource =>
        Assert.IsType<T>(JsonSerializer.Deserialize<Resource>(File.ReadAllText(Path.Combine(Definitions.Profiles, file)), FhirJson.Strict));

    private static T ReadConformance<T>(string file) where T : Resource =>
        Assert.IsType<T>(JsonSerializer.Deserialize<Resource>(File.ReadAllText(Path.Combine(Gateway.Validation.ValidationOptions.Conformance, file)), FhirJson.Strict));

    private static TheoryData<string> FilesLike(string pattern) =>
        [.. Directory.EnumerateFiles(Definitions.Profiles, pattern).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];
}
