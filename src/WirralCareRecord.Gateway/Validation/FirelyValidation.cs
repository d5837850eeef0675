using System.Collections.Concurrent;
using System.Diagnostics;
using Firely.Fhir.Validation;
using Firely.Fhir.Validation.Compilation;
using Hl7.Fhir.ElementModel;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Specification.Source;
using Hl7.Fhir.Specification.Terminology;
using Hl7.Fhir.Utility;

// Firely marks its schema compiler (StructureDefinitionToElementSchemaResolver) experimental; it is the compiler
// Validator itself uses, made here so each pooled validator gets the extra binding check.
#pragma warning disable ExperimentalApi
// The SDK's POCO-to-ITypedElement adapter (locating a reference for a target type issue) is marked experimental too.
#pragma warning disable SDK0001

namespace WirralCareRecord.Gateway.Validation;

/// <summary>
/// Firely.Fhir.Validation set up for the gateway, once per process for a given profiles folder: the definitions
/// (Wirral profiles and UK Core from <c>profiles/</c>, the gateway's value sets from <c>conformance/</c>, base R4 from
/// Hl7.Fhir.Specification.Data.R4), and a pool of validators over them.
/// </summary>
/// <remarks>
/// Resolver stack, innermost first: the three sources; Firely's corrections to the R4 definitions; a
/// <see cref="CopyingResolver"/> (parse once, hand out copies, so the snapshot generator cannot change what the
/// next caller sees); the <see cref="SnapshotSource"/>; and another <see cref="CopyingResolver"/> that keeps each
/// generated snapshot, patches its <c>ref-1</c> copies (<see cref="Ref1Patch"/>) and hands out copies to the schema
/// compiler. A <see cref="Validator"/> is not thread-safe, so each caller rents one from the pool (<see cref="Rent"/>);
/// each validator resolves through its own <see cref="CopyingResolver.KeepingTerminology"/>, so the value sets and code
/// systems it checks codes against are read once, not at every validation.
/// </remarks>
internal sealed class FirelyValidation
{
    public const string CoreBase = "http://hl7.org/fhir/StructureDefinition/";
    public const string AllOk = "All OK";

    private static readonly ConcurrentDictionary<string, Lazy<FirelyValidation>> Instances = new(StringComparer.Ordinal);

    private readonly ConcurrentBag<Pooled> _pool = [];
    private readonly ConcurrentDictionary<string, bool> _known = new(StringComparer.Ordinal);
    private readonly CopyingResolver _resolver;
    private readonly ValidationSettings _settings;
    private int _created;

    private FirelyValidation(string profilesPath, string conformancePath)
    {
        var directory = new DirectorySourceSettings { IncludeSubDirectories = true };
        // A few published UK Core CodeSystems carry mixed XML content in display: read what can be read.
        directory.ParserSettings = new DeserializerSettings().UsingMode(DeserializationMode.Recoverable);
        var sources = new MultiResolver(
            new DirectorySource(profilesPath, directory),
            new DirectorySource(conformancePath, new DirectorySourceSettings { IncludeSubDirectories = true }),
            ZipSource.CreateValidationSource());
        var copies = new CopyingResolver(new StructureDefinitionCorrectionsResolver(sources));
        _resolver = new CopyingResolver(new SnapshotSource(copies), resource => Ref1Patch.Apply(resource), serialize: true);
        _settings = new ValidationSettings
        {
            TransformIssues = Transform,
            // A terminology failure is "not checked", never a reason to reject data (NotCheckedTerminologyService).
            HandleValidateCodeServiceFailure = (_, _) => TerminologyServiceExceptionResult.Warning,
            // An unknown extension in a namespace whose definitions the gateway holds is a mistake (a misspelt URL);
            // one from elsewhere (a supplier's own) is reported, not refused.
            FollowExtensionUrl = (_, url) => IsHeldNamespace(url?.ToString()) ? ExtensionUrlHandling.ErrorIfMissing : ExtensionUrlHandling.WarnIfMissing,
        };

        WirralProfiles = Directory.EnumerateFiles(profilesPath, "StructureDefinition-WCR-*.json")
            .Select(file => Resolve(Path.GetFileNameWithoutExtension(file)["StructureDefinition-".Length..]))
            .OfType<StructureDefinition>()
            .ToDictionary(definition => definition.Type!, definition => definition.Url!, StringComparer.Ordinal);
    }

    /// <summary>
    /// Namespaces whose every extension the gateway holds: base R4, UK Core and the Wirral profiles. Cross-version
    /// extension URLs (<c>http://hl7.org/fhir/5.0/...</c>) are only held where UK Core defines them.
    /// </summary>
    public static bool IsHeldNamespace(string? url) =>
        url is not null
        && (url.StartsWith(CoreBase, StringComparison.Ordinal)
            || url.StartsWith("https://fhir.hl7.org.uk/StructureDefinition/", StringComparison.Ordinal)
            || url.StartsWith("https://fhir.wirralcarerecord.nhs.uk/StructureDefinition/", StringComparison.Ordinal));

    /// <summary>The Wirral profile for each resource type it covers: type to canonical URL.</summary>
    public IReadOnlyDictionary<string, string> WirralProfiles { get; }

    /// <summary>Validators created so far (the pool grows to the number of callers validating at once).</summary>
    public int ValidatorCount => Volatile.Read(ref _created);

    /// <summary>The shared set-up for these folders, created on first use.</summary>
    public static FirelyValidation For(string profilesPath, string conformancePath) =>
        Instances.GetOrAdd(Path.GetFullPath(profilesPath) + "|" + Path.GetFullPath(conformancePath), _ => new Lazy<FirelyValidation>(() => new FirelyValidation(profilesPath, conformancePath))).Value;

    /// <summary>A set-up of its own, sharing nothing with <see cref="For"/>'s (cold: tests and the benchmark measure one).</summary>
    public static FirelyValidation Create(string profilesPath, string conformancePath) => new(profilesPath, conformancePath);

    /// <summary>The Wirral profile for a resource type, if there is one.</summary>
    public string? WirralProfileFor(string resourceType) => WirralProfiles.GetValueOrDefault(resourceType);

    /// <summary>Whether a StructureDefinition with this canonical URL (Wirral, UK Core or base R4) is known.</summary>
    public bool HasProfile(string canonicalUrl) =>
        _known.GetOrAdd(canonicalUrl, url => TaskHelper.Await(() => _resolver.CopyOfAsync(url)) is StructureDefinition);

    /// <summary>
    /// Validates <paramref name="resource"/> against <paramref name="profileUrl"/>; when that is null, against the
    /// first of its <c>meta.profile</c>, else the Wirral profile for its type, else base R4 (Firely adds every other
    /// <c>meta.profile</c> itself). See <see cref="IFhirValidator.Validate"/> for what the outcome holds.
    /// </summary>
    public OperationOutcome Validate(Resource resource, string? profileUrl = null)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var profile = profileUrl ?? resource.Meta?.Profile.FirstOrDefault() ?? WirralProfileFor(resource.TypeName) ?? CoreBase + resource.TypeName;
        if (!HasProfile(profile))
        {
            return Outcome([Issue(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.NotSupported, $"The profile '{profile}' is not known to the gateway.", resource.TypeName)]);
        }

        var pooled = Rent();
        OperationOutcome outcome;
        IReadOnlyList<(string Reference, string Type)> standIns;
        try
        {
            pooled.References.Begin(resource.TypeName);
            outcome = pooled.Validator.Validate(resource, profile);
            standIns = [.. pooled.References.StandIns];
        }
        finally
        {
            _pool.Add(pooled);
        }

        return Tidy(outcome, resource, standIns);
    }

    /// <summary>Compiles the Wirral profiles on one validator and returns how long it took.</summary>
    public TimeSpan WarmUp()
    {
        var started = Stopwatch.GetTimestamp();
        var pooled = Rent();
        try
        {
            foreach (var (type, url) in WirralProfiles)
            {
                if (ModelInfo.GetTypeForFhirType(type) is { } poco && Activator.CreateInstance(poco) is Resource empty)
                {
                    pooled.References.Begin(type);
                    pooled.Validator.Validate(empty, url);
                }
            }
        }
        finally
        {
            _pool.Add(pooled);
        }

        return Stopwatch.GetElapsedTime(started);
    }

    /// <summary>Problems generating a Wirral profile's snapshot, by URL; empty when every one is ready.</summary>
    public IReadOnlyDictionary<string, string> SnapshotProblems()
    {
        var problems = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var url in WirralProfiles.Values)
        {
            if (Resolve(url) is not StructureDefinition { Snapshot.Element.Count: > 0 })
            {
                problems[url] = "no snapshot could be generated";
            }
        }

        return problems;
    }

    /// <summary>A resolved definition (a copy: change it freely), by canonical URL or, for Wirral profiles, by id.</summary>
    public Resource? Resolve(string canonicalOrId) =>
        TaskHelper.Await(() => _resolver.CopyOfAsync(canonicalOrId.Contains(':', StringComparison.Ordinal) ? canonicalOrId : "https://fhir.wirralcarerecord.nhs.uk/StructureDefinition/" + canonicalOrId));

    private Pooled Rent()
    {
        if (_pool.TryTake(out var pooled))
        {
            return pooled;
        }

        Interlocked.Increment(ref _created);
        // Each validator compiles (and caches) its own schemas, and keeps its own terminology copies: neither is
        // shared across threads.
        var resolver = _resolver.KeepingTerminology();
        var schemas = StructureDefinitionToElementSchemaResolver.CreatedCached(resolver, [new NonRequiredBindingBuilder()]);
        var terminology = new NotCheckedTerminologyService(LocalTerminologyService.CreateDefaultForCore(resolver));
        var references = new LiteralReferenceResolver();
        return new Pooled(new Validator(resolver, terminology, references, _settings, schemas), references);
    }

    private sealed record Pooled(Validator Validator, LiteralReferenceResolver References);

    /// <summary>
    /// "Not checked" answers become information. A code that does not exist in its own code system (one the gateway
    /// holds in full) is an error whatever the binding's strength: it is not a choice outside a value set but a
    /// mistake, as the gateway's validator before Firely reported it.
    /// </summary>
    private static IssueAssertion? Transform(IssueAssertion issue)
    {
        if (issue.Severity is OperationOutcome.IssueSeverity.Warning or OperationOutcome.IssueSeverity.Information && issue.Message.Contains("does not exist in the code system", StringComparison.Ordinal))
        {
            return issue.WithSeverity(OperationOutcome.IssueSeverity.Error);
        }

        if (issue.Message.Contains(NotCheckedTerminologyService.NotChecked, StringComparison.Ordinal))
        {
            var start = issue.Message.IndexOf(NotCheckedTerminologyService.NotChecked, StringComparison.Ordinal);
            var information = issue.WithSeverity(OperationOutcome.IssueSeverity.Information);
            information.Message = issue.Message[start..];
            return information;
        }

        return issue;
    }

    /// <summary>
    /// FHIRPath locations in <c>expression</c>, duplicates merged, reference stand-ins' own issues dropped and their
    /// target type issues moved to the referencing element, and "All OK" when there is nothing to say.
    /// </summary>
    private static OperationOutcome Tidy(OperationOutcome outcome, Resource resource, IReadOnlyList<(string Reference, string Type)> standIns)
    {
        var seen = new HashSet<(OperationOutcome.IssueSeverity?, string?, string?)>();
        var issues = new List<OperationOutcome.IssueComponent>();
        var standInTypes = standIns.Select(s => s.Type).ToHashSet(StringComparer.Ordinal);
        foreach (var issue in outcome.Issue)
        {
            if (!issue.Expression.Any() && issue.Location.Any())
            {
                issue.Expression = [.. issue.Location];
            }

            // Firely puts its message in details.text and an element-definition trace in diagnostics; callers show diagnostics.
            if (issue.Details?.Text is { Length: > 0 } message)
            {
                issue.Diagnostics = message;
            }

            var text = issue.Details?.Text ?? issue.Diagnostics ?? string.Empty;
            if (text.StartsWith("Cannot resolve reference ", StringComparison.Ordinal) || text.StartsWith("Resolution of external reference ", StringComparison.Ordinal))
            {
                // Sources refer to resources the gateway does not hold: that is normal, not a finding.
                continue;
            }

            if (issue.Expression.FirstOrDefault() is { } at && standInTypes.Contains(at))
            {
                if (standIns.FirstOrDefault(s => text.StartsWith($"Referenced resource '{s.Reference}' ", StringComparison.Ordinal)) is { Reference: { } reference })
                {
                    issue.Expression = [.. ReferencesTo(resource, reference)];
                }
                else
                {
                    continue;
                }
            }

            if (seen.Add((issue.Severity, string.Join(",", issue.Expression), issue.Details?.Text ?? issue.Diagnostics)))
            {
                issues.Add(issue);
            }
        }

        return Outcome(issues.Count == 0 ? [Issue(OperationOutcome.IssueSeverity.Information, OperationOutcome.IssueType.Informational, AllOk, null)] : issues);
    }

    private static OperationOutcome Outcome(List<OperationOutcome.IssueComponent> issues) => new() { Issue = issues };

    /// <summary>Where in the resource a Reference has exactly this <c>reference</c> value, as FHIRPath.</summary>
    private static IEnumerable<string> ReferencesTo(Resource resource, string reference)
    {
        var pending = new Stack<ITypedElement>([resource.ToTypedElement(ModelInfo.ModelInspector)]);
        while (pending.TryPop(out var node))
        {
            if (node.InstanceType == "Reference" && node.Children("reference").FirstOrDefault()?.Value as string == reference)
            {
                yield return node.Location;
            }

            foreach (var child in node.Children())
            {
                pending.Push(child);
            }
        }
    }

    private static OperationOutcome.IssueComponent Issue(OperationOutcome.IssueSeverity severity, OperationOutcome.IssueType type, string text, string? location)
    {
        var issue = new OperationOutcome.IssueComponent { Severity = severity, Code = type, Diagnostics = text };
        if (location is not null)
        {
            issue.Expression = [location];
        }

        return issue;
    }
}
