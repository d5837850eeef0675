using System.Text.Json;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Tests.Validation;

/// <summary>The profiles in <c>profiles/</c> build and hang together, and the CapabilityStatement points only at what exists.</summary>
public class ProfileDefinitionTests
{
    private const string CanonicalBase = "https://fhir.wirralcarerecord.nhs.uk";

    public static TheoryData<string> ProfileFiles() =>
        [.. Directory.EnumerateFiles(Definitions.Paths.Profiles, "*.json").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(ProfileFiles))]
    public void WirralProfile_Snapshot_GeneratesWithoutErrors(string file)
    {
        // Arrange
        var profile = Read<StructureDefinition>(file);

        // Act
        var compiled = Definitions.Engine.Profile(profile.Url!);

        // Assert
        Assert.NotNull(compiled);
        Assert.Empty(compiled.Problems);
        var generated = Definitions.Engine.Definitions.SnapshotOutcome(profile.Url!);
        Assert.NotNull(generated);
        Assert.True(!generated.Issue.Any(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal), generated.Issue.Describe());
        Assert.True(compiled.Definition.Snapshot!.Element.Count > profile.Differential.Element.Count);
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
            .Where(url => Definitions.Engine.Definitions.FindValueSet(url) is null)
            .ToList();

        // Assert
        Assert.Empty(missing);
    }

    [Fact]
    public void WirralProfiles_CoverThePatientTheRecordTypesAndTheGatewaysOwnResources()
    {
        // Act
        var types = Definitions.Engine.Definitions.WirralProfiles.Select(p => p.Type!).Order(StringComparer.Ordinal).ToList();

        // Assert
        var expected = new FederationOptions().RecordTypes.Concat(["Patient", "Provenance", "AuditEvent", "Bundle"]).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, types);
    }

    [Fact]
    public void UkCoreProfiles_AllCompile()
    {
        // Act
        var failed = Directory.EnumerateFiles(Path.Combine(Definitions.Paths.Profiles, "ukcore", "structuredefinitions"), "UKCore-*.xml")
            .Select(file => Definitions.UkCore + Path.GetFileNameWithoutExtension(file))
            .Where(url => Definitions.Engine.Profile(url) is not { Problems.Count: 0 })
            .ToList();

        // Assert
        Assert.Empty(failed);
    }

    [Fact]
    public void CapabilityStatement_References_OnlyDefinitionsThatExist()
    {
        // Arrange
        var capability = ReadConformance<CapabilityStatement>("CapabilityStatement-wcr-gateway.json");
        var operations = Directory.EnumerateFiles(Definitions.Paths.Conformance, "OperationDefinition-*.json")
            .Select(f => ReadConformance<OperationDefinition>(Path.GetFileName(f)).Url)
            .ToHashSet(StringComparer.Ordinal);

        // Act
        var rest = Assert.Single(capability.Rest);
        var profiles = rest.Resource.SelectMany(r => r.SupportedProfile.Append(r.Profile)).OfType<string>().ToList();
        var definitions = rest.Resource.SelectMany(r => r.Operation).Concat(rest.Operation).Select(o => o.Definition!).ToList();

        // Assert
        Assert.NotEmpty(profiles);
        Assert.All(profiles, url => Assert.True(Definitions.Engine.HasProfile(url), $"{url} is not a known StructureDefinition"));
        Assert.All(definitions, url => Assert.True(operations.Contains(url) || Definitions.Engine.Definitions.Contains(url), $"{url} is not a known OperationDefinition"));
        Assert.All(rest.Resource, r => Assert.All(r.SupportedProfile, url => Assert.Equal(r.Type.ToString(), Definitions.Engine.Profile(url!)!.Type)));
    }

    [Fact]
    public void CapabilityStatement_DeclaresEveryWirralProfileAndValidate()
    {
        // Arrange
        var capability = ReadConformance<CapabilityStatement>("CapabilityStatement-wcr-gateway.json");

        // Act
        var declared = capability.Rest.Single().Resource.SelectMany(r => r.SupportedProfile).ToHashSet(StringComparer.Ordinal);

        // Assert
        Assert.All(Definitions.Engine.Definitions.WirralProfiles, p => Assert.Contains(p.Url, declared));
        var validate = Assert.Single(capability.Rest.Single().Operation);
        Assert.Equal(("validate", "http://hl7.org/fhir/OperationDefinition/Resource-validate"), (validate.Name, validate.Definition));
    }

    [Fact]
    public void PurposeOfUseValueSet_ExpandsTreatmentAndItsKindsLocally()
    {
        // Act
        var valueSet = Definitions.Engine.Terminology.ValueSet($"{CanonicalBase}/ValueSet/wcr-purpose-of-use");

        // Assert
        Assert.True(valueSet.FullyChecked);
        const string actReason = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
        Assert.All(new[] { "TREAT", "ETREAT", "BTG", "COC", "POPHLTH", "CAREMGT", "HOPERAT", "PATRQT" }, code => Assert.Equal(Gateway.Validation.Terminology.CodeCheck.Valid, valueSet.Check(actReason, code)));
        Assert.Equal(Gateway.Validation.Terminology.CodeCheck.Invalid, valueSet.Check(actReason, "HRESCH"));
    }

    [Fact]
    public void RoleValueSet_HoldsTheGatewaysRoles()
    {
        // Act
        var valueSet = Definitions.Engine.Terminology.ValueSet($"{CanonicalBase}/ValueSet/wcr-role");

        // Assert
        Assert.Equal(Gateway.Authentication.Roles.All.Count, valueSet.Count);
        Assert.All(Gateway.Authentication.Roles.All, role => Assert.Equal(Gateway.Validation.Terminology.CodeCheck.Valid, valueSet.Check($"{CanonicalBase}/CodeSystem/wcr-role", role)));
    }

    private static T Read<T>(string file) where T : Resource =>
        Assert.IsType<T>(JsonSerializer.Deserialize<Resource>(File.ReadAllText(Path.Combine(Definitions.Paths.Profiles, file)), FhirJson.Strict));

    private static T ReadConformance<T>(string file) where T : Resource =>
        Assert.IsType<T>(JsonSerializer.Deserialize<Resource>(File.ReadAllText(Path.Combine(Definitions.Paths.Conformance, file)), FhirJson.Strict));
}
