using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>One kind of problem a source's data has: where (FHIRPath, list positions removed) and which rule; never a value.</summary>
public sealed record DataQualityProblem(string ResourceType, string Location, string Severity, string Rule, long Count);

/// <summary>
/// A source's data quality: as measured by the background sampler and flow tests since this instance started (the
/// data-quality endpoint and the onboarding page), or by one flow test (its report, with <see cref="SampleShare"/> 1:
/// every answer of a flow test is checked).
/// </summary>
public sealed record DataQualityReport(
    string OdsCode,
    long AnswersSampled,
    long ResourcesChecked,
    long ResourcesConformant,
    double? ShareConformant,
    DateTimeOffset? LastCheckedAt,
    IReadOnlyList<DataQualityProblem> MostFrequentProblems,
    double SampleShare,
    long SamplesDropped);

/// <summary>
/// Per-source data quality figures, in memory, per gateway instance: resources checked, how many conform, and the
/// most frequent problems with their FHIRPath locations. A finding keeps the resource type, the location with list
/// positions removed and the rule with every quoted value taken out (<see cref="Rule"/>): no NHS number, name, date
/// or clinical value is kept.
/// </summary>
public sealed partial class DataQualityFigures(TimeProvider time)
{
    /// <summary>Distinct problems kept per source; past this, new kinds are counted under one "other problems" entry.</summary>
    public const int MaxProblemKinds = 200;

    private readonly ConcurrentDictionary<string, Source> _sources = new(StringComparer.OrdinalIgnoreCase);
    private long _dropped;

    /// <summary>Sampled answers dropped because the sampler's queue was full.</summary>
    public long SamplesDropped => Interlocked.Read(ref _dropped);

    public void CountDropped() => Interlocked.Increment(ref _dropped);

    /// <summary>One answer sampled from the source (its resources are recorded one by one).</summary>
    public void CountAnswer(string odsCode) => Interlocked.Increment(ref For(odsCode).Answers);

    /// <summary>Records one resource's validation outcome against the source.</summary>
    public void Record(string odsCode, string resourceType, OperationOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        var source = For(odsCode);
        var conformant = outcome.Success;
        lock (source)
        {
            source.Checked++;
            source.Conformant += conformant ? 1 : 0;
            source.LastCheckedAt = time.GetUtcNow();
            foreach (var issue in outcome.Issue.Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal or OperationOutcome.IssueSeverity.Warning))
            {
                var key = new ProblemKey(resourceType, Location(issue, resourceType), issue.Severity!.Value.ToString().ToLowerInvariant(), Rule(issue));
                if (!source.Problems.ContainsKey(key) && source.Problems.Count >= MaxProblemKinds)
                {
                    key = new ProblemKey(resourceType, resourceType, key.Severity, "(other problems)");
                }

                source.Problems[key] = source.Problems.GetValueOrDefault(key) + 1;
            }
        }
    }

    /// <summary>A source's figures, its <paramref name="top"/> most frequent problems first.</summary>
    public DataQualityReport Report(string odsCode, double sampleShare, int top = 10)
    {
        if (!_sources.TryGetValue(odsCode, out var source))
        {
            return new DataQualityReport(odsCode, 0, 0, 0, null, null, [], sampleShare, SamplesDropped);
        }

        lock (source)
        {
            return new DataQualityReport(
                odsCode,
                Interlocked.Read(ref source.Answers),
                source.Checked,
                source.Conformant,
                source.Checked == 0 ? null : Math.Round((double)source.Conformant / source.Checked, 4),
                source.LastCheckedAt,
                [.. source.Problems
                    .OrderByDescending(p => p.Value).ThenBy(p => p.Key.ResourceType, StringComparer.Ordinal).ThenBy(p => p.Key.Location, StringComparer.Ordinal)
                    .Take(top)
                    .Select(p => new DataQualityProblem(p.Key.ResourceType, p.Key.Location, p.Key.Severity, p.Key.Rule, p.Value))],
                sampleShare,
                SamplesDropped);
        }
    }

    /// <summary>The issue's FHIRPath location without list positions (<c>Patient.identifier.system</c>), so like problems count together.</summary>
    public static string Location(OperationOutcome.IssueComponent issue, string resourceType)
    {
        ArgumentNullException.ThrowIfNull(issue);
        var location = issue.Expression.FirstOrDefault() ?? issue.Location.FirstOrDefault() ?? resourceType;
        return Position().Replace(location, string.Empty);
    }

    /// <summary>
    /// The rule an issue reports, as a template: Firely's issue number, then its message with every quoted value
    /// replaced by <c>'…'</c> (kept only when it is a definition's canonical URL or an element path) and every run of
    /// three or more digits by <c>#</c>. Firely's messages quote the offending value ("Value '1970-13-45' is not a
    /// valid date"), which may be an NHS number, a name or a clinical value.
    /// </summary>
    public static string Rule(OperationOutcome.IssueComponent issue)
    {
        ArgumentNullException.ThrowIfNull(issue);
        var code = issue.Details?.Coding.FirstOrDefault()?.Code;
        var message = issue.Details?.Text ?? issue.Diagnostics ?? issue.Code?.ToString() ?? "problem";
        message = Quoted().Replace(message, match => KeepQuoted(match.Groups["value"].Value) ? match.Value : match.Groups["quote"].Value + "…" + match.Groups["quote"].Value);
        message = Digits().Replace(message, "#");
        return code is null ? message : $"[{code}] {message}";
    }

    private static readonly string[] DefinitionNamespaces =
    [
        "http://hl7.org/fhir/", "https://fhir.hl7.org.uk/", "https://fhir.nhs.uk/", "https://fhir.wirralcarerecord.nhs.uk/",
        "http://terminology.hl7.org/", "http://snomed.info/sct", "http://loinc.org", "http://unitsofmeasure.org", "https://dmd.nhs.uk",
    ];

    private static bool KeepQuoted(string value) =>
        (DefinitionNamespaces.Any(ns => value.StartsWith(ns, StringComparison.Ordinal)) && !value.Contains('?', StringComparison.Ordinal) && !Digits().IsMatch(value.Split('|')[0].Split('/')[^1]))
        || (ElementPath().IsMatch(value) && (ModelInfo.IsKnownResource(value.Split('.')[0]) || ModelInfo.IsDataType(value.Split('.')[0])));

    private Source For(string odsCode) => _sources.GetOrAdd(odsCode, _ => new Source());

    [GeneratedRegex(@"\[\d+\]")]
    private static partial Regex Position();

    // Firely quotes values in single quotes; double quotes hold a constraint's own description, which is rule text.
    [GeneratedRegex(@"(?<quote>')(?<value>[^']*)'")]
    private static partial Regex Quoted();

    [GeneratedRegex(@"\d{3,}")]
    private static partial Regex Digits();

    [GeneratedRegex(@"^[A-Z][A-Za-z]+(\.[a-z][A-Za-z0-9:\[\]\-]*)+$")]
    private static partial Regex ElementPath();

    private sealed record ProblemKey(string ResourceType, string Location, string Severity, string Rule);

    private sealed class Source
    {
        public long Answers;
        public long Checked;
        public long Conformant;
        public DateTimeOffset? LastCheckedAt;
        public readonly Dictionary<ProblemKey, long> Problems = [];
    }
}
