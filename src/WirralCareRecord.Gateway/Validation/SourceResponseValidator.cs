using System.Text.RegularExpressions;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>
/// The read-time check (<see cref="ValidationOptions.ValidateSourceResponses"/>): validates each source item in a
/// combined record against the Wirral profile for its type and says in the record's OperationOutcome which items do
/// not conform and where. Nothing is removed: a clinician is better served by an imperfect allergy than by none, and
/// what could not be read at all was already left out by the federation.
/// </summary>
internal sealed partial class SourceResponseValidator(ProfileLibrary library, IOptions<ValidationOptions> options, ILogger<SourceResponseValidator> logger)
{
    public const string NonconformantCode = "nonconformant";
    private const string SourceOutcomeSystem = "https://fhir.wirralcarerecord.nhs.uk/CodeSystem/wcr-source-outcome";
    private const string OdsSystem = "https://fhir.nhs.uk/Id/ods-organization-code";

    public bool Enabled => options.Value.ValidateSourceResponses;

    /// <summary>
    /// Adds an issue per non-conforming item to the record's OperationOutcome entry (creating it if need be), with the
    /// item's errors as FHIRPath locations in the Bundle. Does nothing unless enabled. Returns the number of such items.
    /// </summary>
    public int Annotate(Bundle record, string correlationId)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!Enabled)
        {
            return 0;
        }

        var engine = library.Engine;
        var issues = new List<OperationOutcome.IssueComponent>();
        var bySource = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < record.Entry.Count; i++)
        {
            var entry = record.Entry[i];
            // The gateway's own Provenance and OperationOutcome are not source data.
            if (entry.Search?.Mode is not (Bundle.SearchEntryMode.Match or Bundle.SearchEntryMode.Include) || entry.Resource is null or Provenance)
            {
                continue;
            }

            var resource = entry.Resource;
            var outcome = engine.Validate(resource, engine.WirralProfileFor(resource.TypeName));
            var errors = outcome.Issue.Where(issue => issue.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal).ToList();
            if (errors.Count == 0)
            {
                continue;
            }

            var ods = SourceOf(entry.FullUrl) ?? "unknown";
            bySource[ods] = bySource.GetValueOrDefault(ods) + 1;
            var prefix = $"Bundle.entry[{i}].resource";
            var more = errors.Count > 1 ? $" (and {errors.Count - 1} more problem(s))" : string.Empty;
            var issue = Outcomes.Issue(
                OperationOutcome.IssueSeverity.Warning,
                OperationOutcome.IssueType.Invalid,
                $"{ods}: {resource.TypeName}/{resource.Id} does not conform to the Wirral Care Record profiles: {errors[0].Diagnostics}{more} It is shown as the source sent it.");
            (issue.Details ??= new CodeableConcept()).Coding.Add(new Coding(SourceOutcomeSystem, NonconformantCode));
            issue.Location = [$"{OdsSystem}|{ods}"];
            issue.Expression = [.. errors.SelectMany(e => e.Expression).OfType<string>().Select(e => Rebase(e, resource.TypeName, prefix)).Distinct()];
            issues.Add(issue);
        }

        foreach (var (ods, count) in bySource)
        {
            ValidationLog.SourceNonconformant(logger, ods, count, correlationId);
        }

        if (issues.Count > 0)
        {
            OutcomeOf(record).Issue.AddRange(issues);
        }

        return issues.Count;
    }

    private static OperationOutcome OutcomeOf(Bundle record)
    {
        if (record.Entry.FirstOrDefault(e => e.Search?.Mode == Bundle.SearchEntryMode.Outcome)?.Resource is OperationOutcome existing)
        {
            return existing;
        }

        var outcome = new OperationOutcome { Id = Guid.NewGuid().ToString() };
        record.Entry.Add(new Bundle.EntryComponent
        {
            FullUrl = "urn:uuid:" + outcome.Id,
            Resource = outcome,
            Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Outcome },
        });
        return outcome;
    }

    /// <summary>The ODS code in a gateway address, <c>.../sources/{ods}/fhir/{type}/{id}</c>.</summary>
    private static string? SourceOf(string? fullUrl) => fullUrl is not null && SourcePath().Match(fullUrl) is { Success: true } match ? match.Groups["ods"].Value : null;

    private static string Rebase(string expression, string resourceType, string prefix) =>
        expression == resourceType ? prefix
        : expression.StartsWith(resourceType + ".", StringComparison.Ordinal) ? prefix + expression[resourceType.Length..]
        : expression;

    [GeneratedRegex("/sources/(?<ods>[^/]+)/fhir/")]
    private static partial Regex SourcePath();
}
