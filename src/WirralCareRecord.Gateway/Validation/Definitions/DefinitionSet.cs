using System.Collections.Concurrent;
using System.Text.Json;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Specification.Snapshot;
using Hl7.Fhir.Specification.Source;

namespace WirralCareRecord.Gateway.Validation.Definitions;

/// <summary>
/// Every definition the validator can use, by canonical URL: the Wirral profiles and the gateway's value sets first,
/// then UK Core, then base R4. Also the resolver the SDK's <see cref="SnapshotGenerator"/> works against, so
/// snapshots are generated over exactly the same definitions. Loaded once per process (see <see cref="Rules.ValidationEngine"/>).
/// </summary>
internal sealed partial class DefinitionSet : IAsyncResourceResolver, IResourceResolver
{
    /// <summary>The base R4 files read, in order of precedence (a URL defined twice is taken from the first).</summary>
    public static readonly IReadOnlyList<string> BaseFiles =
    [
        "profiles-types.json", "profiles-resources.json", "extension-definitions.json", "profiles-others.json",
        "valuesets.json", "v3-codesystems.json", "v2-tables.json",
    ];

    public const string UkCoreFolder = "ukcore";

    // Ostrich: a few published base value sets carry invalid URIs and some UK Core code systems mixed XML content;
    // neither matters for validation, and refusing them would lose the rest of the file.
    private static readonly JsonSerializerOptions BaseJson = new JsonSerializerOptions().ForFhir(ModelInfo.ModelInspector).UsingMode(DeserializationMode.Ostrich);
    private static readonly FhirXmlDeserializer UkCoreXml = new(new DeserializerSettings().UsingMode(DeserializationMode.Ostrich));

    private readonly Dictionary<string, Resource> _local;
    private readonly Dictionary<string, string> _ukCoreFiles;
    private readonly IReadOnlyList<JsonBundleFile> _baseFiles;
    private readonly ConcurrentDictionary<string, Lazy<Resource?>> _parsed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, OperationOutcome> _snapshotOutcomes = new(StringComparer.Ordinal);
    private readonly Lock _snapshotLock = new();

    private DefinitionSet(DefinitionPaths paths, Dictionary<string, Resource> local, Dictionary<string, string> ukCoreFiles, IReadOnlyList<JsonBundleFile> baseFiles, IReadOnlyList<StructureDefinition> wirralProfiles)
    {
        Paths = paths;
        _local = local;
        _ukCoreFiles = ukCoreFiles;
        _baseFiles = baseFiles;
        WirralProfiles = wirralProfiles;
    }

    public DefinitionPaths Paths { get; }

    /// <summary>The profiles in <c>profiles/</c> (not UK Core), by file name order.</summary>
    public IReadOnlyList<StructureDefinition> WirralProfiles { get; }

    /// <summary>How many definitions are available, local and base.</summary>
    public int Count => _local.Count + _ukCoreFiles.Count + _baseFiles.Sum(f => f.Count);

    public static DefinitionSet Load(DefinitionPaths paths)
    {
        if (paths.Problem() is { } problem)
        {
            throw new InvalidOperationException(problem);
        }

        var local = new Dictionary<string, Resource>(StringComparer.Ordinal);
        var wirral = new List<StructureDefinition>();

        // Ours first, strictly: a typo in a Wirral profile or value set must stop the gateway, not be guessed at.
        foreach (var file in Directory.EnumerateFiles(paths.Profiles, "*.json").Order(StringComparer.Ordinal))
        {
            var resource = ParseStrict(file);
            if (resource is StructureDefinition profile)
            {
                wirral.Add(profile);
            }

            Add(local, resource, file);
        }

        foreach (var file in Directory.EnumerateFiles(paths.Conformance, "*.json").Order(StringComparer.Ordinal))
        {
            var resource = ParseStrict(file);
            if (resource is ValueSet or CodeSystem or StructureDefinition)
            {
                Add(local, resource, file);
            }
        }

        // UK Core is indexed by URL and each definition parsed when first needed: most are never used.
        var ukCoreFiles = new Dictionary<string, string>(StringComparer.Ordinal);
        var ukCore = Path.Combine(paths.Profiles, UkCoreFolder);
        if (Directory.Exists(ukCore))
        {
            foreach (var file in Directory.EnumerateFiles(ukCore, "*.xml", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                if (UrlElement().Match(File.ReadAllText(file)) is { Success: true } match && !local.ContainsKey(match.Groups["url"].Value))
                {
                    ukCoreFiles.TryAdd(match.Groups["url"].Value, file);
                }
            }
        }

        var baseFiles = BaseFiles
            .Select(name => Path.Combine(paths.BaseDefinitions, name))
            .Where(File.Exists)
            .AsParallel().AsOrdered()
            .Select(JsonBundleFile.Load)
            .ToList();
        return new DefinitionSet(paths, local, ukCoreFiles, baseFiles, wirral);
    }

    /// <summary>The definition with this canonical URL (a <c>|version</c> suffix is ignored), or null.</summary>
    public Resource? Find(string canonical)
    {
        var url = CanonicalUrl.Strip(canonical);
        if (_local.TryGetValue(url, out var local))
        {
            return local;
        }

        return _parsed.GetOrAdd(url, key => new Lazy<Resource?>(() => Parse(key))).Value;
    }

    public bool Contains(string canonical)
    {
        var url = CanonicalUrl.Strip(canonical);
        return _local.ContainsKey(url) || _ukCoreFiles.ContainsKey(url) || _baseFiles.Any(f => f.Contains(url));
    }

    public ValueSet? FindValueSet(string canonical) => Find(canonical) as ValueSet;

    public CodeSystem? FindCodeSystem(string canonical) => Find(canonical) as CodeSystem;

    /// <summary>
    /// Uses the StructureDefinition with its snapshot, generating the snapshot (and those of the definitions it builds
    /// on) the first time; null when there is no such definition. Generation and use are serialised: the SDK's
    /// generator updates shared definitions in place, so nothing may read them while it runs.
    /// </summary>
    public T? WithSnapshot<T>(string canonical, Func<StructureDefinition, T> use)
        where T : class
    {
        canonical = CanonicalUrl.Strip(canonical);
        if (Find(canonical) is not StructureDefinition definition)
        {
            return null;
        }

        lock (_snapshotLock)
        {
            if (!HasSnapshot(definition))
            {
                var generator = new SnapshotGenerator(this, new SnapshotGeneratorSettings
                {
                    GenerateSnapshotForExternalProfiles = true,
                    ForceRegenerateSnapshots = false,
                    GenerateElementIds = true,
                });
                // The resolver answers from memory, so the generator's awaits complete synchronously.
                generator.UpdateAsync(definition).GetAwaiter().GetResult();
                _snapshotOutcomes[canonical] = generator.Outcome ?? new OperationOutcome();
            }

            return use(definition);
        }
    }

    /// <summary>What the snapshot generator reported for a definition whose snapshot this set generated.</summary>
    public OperationOutcome? SnapshotOutcome(string canonical) => _snapshotOutcomes.GetValueOrDefault(CanonicalUrl.Strip(canonical));

    // A definition's own url comes before any nested element with a url (FHIR's element order).
    [System.Text.RegularExpressions.GeneratedRegex("<url value=\"(?<url>[^\"]+)\"")]
    private static partial System.Text.RegularExpressions.Regex UrlElement();

    private static bool HasSnapshot(StructureDefinition definition) => definition.Snapshot?.Element.Count > 0;

    private Resource? Parse(string url)
    {
        if (_ukCoreFiles.TryGetValue(url, out var ukCoreFile))
        {
            return UkCoreXml.DeserializeResource(File.ReadAllText(ukCoreFile));
        }

        foreach (var file in _baseFiles)
        {
            var json = file.Find(url);
            if (!json.IsEmpty)
            {
                return JsonSerializer.Deserialize<Resource>(json.Span, BaseJson);
            }
        }

        return null;
    }

    private static Resource ParseStrict(string file)
    {
        try
        {
            return JsonSerializer.Deserialize<Resource>(File.ReadAllText(file), Hosting.FhirJson.Strict)
                ?? throw new InvalidDataException($"{file} is empty.");
        }
        catch (Exception ex) when (ex is JsonException or DeserializationFailedException)
        {
            throw new InvalidDataException($"{file} is not a valid FHIR resource: {ex.Message}", ex);
        }
    }

    private static void Add(Dictionary<string, Resource> local, Resource resource, string file)
    {
        if (resource is IConformanceResource { Url: { } url } && !local.TryAdd(url, resource))
        {
            throw new InvalidDataException($"{file} defines {url}, which another file already defines.");
        }
    }

    // The SDK's resolver interfaces, over Find. Both flavours, so any SDK component can use the set.
    public Task<ResolverResult> TryResolveByUriAsync(string uri) => Task.FromResult(TryResolveByUri(uri));

    public Task<ResolverResult> TryResolveByCanonicalUriAsync(string uri) => Task.FromResult(TryResolveByCanonicalUri(uri));

    public ResolverResult TryResolveByUri(string uri) => TryResolveByCanonicalUri(uri);

    public ResolverResult TryResolveByCanonicalUri(string uri) => Find(uri) is { } resource
        ? new ResolverResult(resource)
        : new ResolverResult(new ResolverException(ResolverException.NOT_FOUND, $"{uri} is not among the loaded definitions."));

    [Obsolete("Use TryResolveByUriAsync.")]
    public Task<Resource?> ResolveByUriAsync(string uri) => Task.FromResult(Find(uri));

    [Obsolete("Use TryResolveByCanonicalUriAsync.")]
    public Task<Resource?> ResolveByCanonicalUriAsync(string uri) => Task.FromResult(Find(uri));

    [Obsolete("Use TryResolveByUri.")]
    public Resource ResolveByUri(string uri) => Find(uri)!;

    [Obsolete("Use TryResolveByCanonicalUri.")]
    public Resource ResolveByCanonicalUri(string uri) => Find(uri)!;
}

/// <summary>Canonical URL handling.</summary>
internal static class CanonicalUrl
{
    /// <summary>The URL without a <c>|version</c> suffix or <c>#fragment</c>.</summary>
    public static string Strip(string canonical)
    {
        var end = canonical.AsSpan().IndexOfAny('|', '#');
        return end < 0 ? canonical : canonical[..end];
    }

    /// <summary>The last path segment, the usual short name of a definition.</summary>
    public static string Tail(string canonical)
    {
        var url = Strip(canonical);
        return url[(url.LastIndexOf('/') + 1)..];
    }
}
