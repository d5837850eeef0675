using System.Collections.Concurrent;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Validation.Definitions;
using WirralCareRecord.Gateway.Validation.Terminology;
using IssueType = Hl7.Fhir.Model.OperationOutcome.IssueType;

namespace WirralCareRecord.Gateway.Validation.Rules;

/// <summary>
/// One loaded set of definitions with everything compiled from it, cached: a compiled profile per canonical URL,
/// value set expansions, slice discriminator values, extension contexts. One per process for each set of paths,
/// shared by every gateway host in it (the test suite starts dozens), because loading and compiling cost seconds
/// while validating a resource with them costs well under a millisecond.
/// </summary>
internal sealed class ValidationEngine
{
    public const string CoreBase = "http://hl7.org/fhir/StructureDefinition/";

    private static readonly ConcurrentDictionary<DefinitionPaths, Lazy<ValidationEngine>> Shared = new();

    private static readonly string[] DefinitionNamespaces =
    [
        CoreBase, "https://fhir.hl7.org.uk/StructureDefinition/", "https://fhir.wirralcarerecord.nhs.uk/StructureDefinition/",
    ];

    private readonly ConcurrentDictionary<string, Lazy<CompiledProfile?>> _profiles = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _compileFailures = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(ElementRule Slice, Discriminator Discriminator), SliceExpectation> _expectations = new();
    private readonly ConcurrentDictionary<string, CompiledProfile?> _baseProfiles = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IReadOnlyList<(StructureDefinition.ExtensionContextType, string)>?> _extensionContexts = new(StringComparer.Ordinal);
    private readonly IReadOnlyDictionary<string, string> _wirralProfileByType;

    private ValidationEngine(DefinitionSet definitions)
    {
        Definitions = definitions;
        Terminology = new LocalTerminology(definitions);
        _wirralProfileByType = definitions.WirralProfiles
            .Where(p => p is { Derivation: StructureDefinition.TypeDerivationRule.Constraint, Kind: StructureDefinition.StructureDefinitionKind.Resource, Type: not null, Url: not null })
            .GroupBy(p => p.Type!)
            .ToDictionary(g => g.Key, g => g.First().Url!, StringComparer.Ordinal);
    }

    public DefinitionSet Definitions { get; }

    public LocalTerminology Terminology { get; }

    /// <summary>Why profiles that exist could not be compiled (snapshot generation failed), by URL.</summary>
    public IReadOnlyDictionary<string, string> CompileFailures => _compileFailures;

    /// <summary>The engine for these paths, loading the definitions the first time in this process.</summary>
    public static ValidationEngine For(DefinitionPaths paths) =>
        Shared.GetOrAdd(paths, p => new Lazy<ValidationEngine>(() => new ValidationEngine(DefinitionSet.Load(p)))).Value;

    /// <summary>The Wirral profile for a resource type, if there is one.</summary>
    public string? WirralProfileFor(string resourceType) => _wirralProfileByType.GetValueOrDefault(resourceType);

    public bool HasProfile(string canonical) => Definitions.Find(canonical) is StructureDefinition;

    /// <summary>Whether a definition URL is in a namespace all of whose definitions are held here (core R4, UK Core, Wirral).</summary>
    public static bool IsDefinedHere(string? url) =>
        url is not null && DefinitionNamespaces.Any(ns => url.StartsWith(ns, StringComparison.Ordinal));

    /// <summary>The compiled profile, generating its snapshot first if need be; null when unknown or uncompilable.</summary>
    public CompiledProfile? Profile(string canonical) =>
        _profiles.GetOrAdd(CanonicalUrl.Strip(canonical), url => new Lazy<CompiledProfile?>(() => CompileProfile(url))).Value;

    public CompiledProfile? BaseProfile(string type) => _baseProfiles.GetOrAdd(type, t => Profile(CoreBase + t));

    public OperationOutcome Validate(Resource resource, string? profileUrl)
    {
        var issues = new IssueCollector();
        var location = resource.TypeName;
        List<CompiledProfile> profiles;
        if (profileUrl is not null)
        {
            if (Profile(profileUrl) is not { } requested)
            {
                issues.Error(IssueType.NotSupported, location, $"The profile '{profileUrl}' is not known to the gateway.");
                return issues.ToOutcome();
            }

            profiles = [requested];
        }
        else
        {
            profiles = [.. DeclaredProfiles(resource, location, issues)];
            if (profiles.Count == 0 && (WirralProfileFor(resource.TypeName) is { } wirral ? Profile(wirral) : BaseProfile(resource.TypeName)) is { } fallback)
            {
                profiles.Add(fallback);
            }
        }

        var node = resource.ToPocoNode();
        foreach (var profile in profiles)
        {
            new InstanceValidator(this, issues).ValidateResource(node, location, profile);
        }

        return issues.ToOutcome();
    }

    /// <summary>The known profiles a resource claims in <c>meta.profile</c>; those not known are reported and skipped.</summary>
    public IEnumerable<CompiledProfile> DeclaredProfiles(Resource resource, string location, IssueCollector issues)
    {
        foreach (var url in resource.Meta?.Profile.OfType<string>() ?? [])
        {
            if (Profile(url) is { } profile)
            {
                yield return profile;
            }
            else
            {
                issues.Warning(IssueType.NotSupported, location, $"The profile '{url}' in meta.profile is not known to the gateway, so the resource was not checked against it.");
            }
        }
    }

    /// <summary>The resource types a reference of this type may point to; empty for any.</summary>
    public IReadOnlySet<string> TargetTypes(TypeRule type)
    {
        if (type.TargetTypes is { } known)
        {
            return known;
        }

        var types = new HashSet<string>(StringComparer.Ordinal);
        foreach (var url in type.TargetProfiles)
        {
            var target = Definitions.Find(url) is StructureDefinition definition ? definition.Type : null;
            if (target is null or "Resource" or "DomainResource")
            {
                // An unknown target profile, or any resource: nothing to check the type against.
                types.Clear();
                break;
            }

            types.Add(target);
        }

        // Benign race: every thread computes the same set.
        type.TargetTypes = types;
        return types;
    }

    /// <summary>Where an extension may be used (its definition's <c>context</c>); null when unknown, empty when anywhere.</summary>
    public IReadOnlyList<(StructureDefinition.ExtensionContextType Type, string Expression)>? ExtensionContexts(string url) =>
        _extensionContexts.GetOrAdd(CanonicalUrl.Strip(url), key => Definitions.Find(key) is StructureDefinition { Type: "Extension" } definition
            ? [.. definition.Context.Where(c => c.Type is not null && c.Expression is not null).Select(c => (c.Type!.Value, c.Expression!))]
            : null);

    /// <summary>What an item must hold at a discriminator's path to belong to a slice, worked out once per slice.</summary>
    public SliceExpectation Expectation(ElementRule slice, Discriminator discriminator) =>
        _expectations.GetOrAdd((slice, discriminator), key => SliceExpectation.For(this, key.Slice, key.Discriminator));

    /// <summary>The compiled profile of an element's (first) type, whose children apply when the snapshot gives none.</summary>
    public CompiledProfile? TypeProfileOf(ElementRule rule)
    {
        var type = rule.Types.Count > 0 ? rule.Types[0] : null;
        if (type is null || type.IsSystemType)
        {
            return null;
        }

        return type.Profiles.Select(Profile).FirstOrDefault(p => p is not null) ?? BaseProfile(type.Code);
    }

    private CompiledProfile? CompileProfile(string url)
    {
        try
        {
            return Definitions.WithSnapshot(url, ProfileCompiler.Compile);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A definition whose snapshot cannot be built is reported (health check, tests) and treated as unknown.
            _compileFailures[url] = ex.Message;
            return null;
        }
    }
}

/// <summary>What a discriminator's path must hold for an item to be in a slice.</summary>
internal sealed record SliceExpectation(DataType? Value, bool Exact, string? ValueSet, bool MustExist, IReadOnlyList<string> Types)
{
    public static SliceExpectation For(ValidationEngine engine, ElementRule slice, Discriminator discriminator)
    {
        var target = Navigate(engine, slice, discriminator.Path);
        if (target is null)
        {
            return new SliceExpectation(null, false, null, false, []);
        }

        var types = discriminator.Type == ElementDefinition.DiscriminatorType.Profile
            ? target.Types.SelectMany(t => t.Profiles.Concat(t.TargetProfiles)).Select(p => engine.Definitions.Find(p) is StructureDefinition sd ? sd.Type : null).OfType<string>().ToList()
            : target.Types.Select(t => t.Code).ToList();
        return new SliceExpectation(
            target.Fixed ?? target.Pattern,
            target.Fixed is not null,
            target.Binding is { Strength: BindingStrength.Required } binding ? binding.ValueSet : null,
            target.Min > 0 && target.Max > 0,
            types);
    }

    /// <summary>The rule at a discriminator path below a slice: <c>system</c>, <c>coding.code</c>, <c>extension('url').value</c>, <c>$this</c>.</summary>
    private static ElementRule? Navigate(ValidationEngine engine, ElementRule slice, string path)
    {
        var current = slice;
        foreach (var segment in Segments(path))
        {
            if (segment is "$this" || segment.StartsWith("ofType(", StringComparison.Ordinal))
            {
                continue;
            }

            if (segment == "resolve()")
            {
                return current;
            }

            var extensionUrl = segment.StartsWith("extension(", StringComparison.Ordinal) ? segment[10..^1].Trim('\'', '"') : null;
            var children = current.HasChildren ? current.Children : engine.TypeProfileOf(current)?.Root.Children;
            if (children is null || !children.Groups.TryGetValue(extensionUrl is null ? segment : "extension", out var group))
            {
                return null;
            }

            current = extensionUrl is null
                ? group.Definition
                : group.Slices.FirstOrDefault(s => s.Types.Any(t => t.Profiles.Contains(extensionUrl))) ?? group.Definition;
        }

        return current;
    }

    private static IEnumerable<string> Segments(string path)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < path.Length; i++)
        {
            depth += path[i] switch { '(' => 1, ')' => -1, _ => 0 };
            if (path[i] == '.' && depth == 0)
            {
                yield return path[start..i];
                start = i + 1;
            }
        }

        yield return path[start..];
    }
}
