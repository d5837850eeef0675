using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Validation.Rules;

/// <summary>The issues of one validation, in the order found, each once.</summary>
internal sealed class IssueCollector
{
    public const string AllOk = "All OK";

    private readonly List<OperationOutcome.IssueComponent> _issues = [];
    private readonly HashSet<(string Location, string Message)> _seen = [];

    public int Errors { get; private set; }

    public IReadOnlyList<OperationOutcome.IssueComponent> Issues => _issues;

    public void Error(OperationOutcome.IssueType type, string location, string message) => Add(OperationOutcome.IssueSeverity.Error, type, location, message);

    public void Warning(OperationOutcome.IssueType type, string location, string message) => Add(OperationOutcome.IssueSeverity.Warning, type, location, message);

    public void Information(OperationOutcome.IssueType type, string location, string message) => Add(OperationOutcome.IssueSeverity.Information, type, location, message);

    public void Add(OperationOutcome.IssueSeverity severity, OperationOutcome.IssueType type, string location, string message)
    {
        if (!_seen.Add((location, message)))
        {
            return;
        }

        if (severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal)
        {
            Errors++;
        }

        var issue = Outcomes.Issue(severity, type, message);
        issue.Expression = [location];
        _issues.Add(issue);
    }

    /// <summary>
    /// The outcome. FHIR requires at least one issue, so a resource with nothing to report gets a single
    /// information issue "All OK"; valid means no error or fatal issue (<see cref="OperationOutcome.Success"/>).
    /// </summary>
    public OperationOutcome ToOutcome() => new()
    {
        Issue = _issues.Count > 0
            ? [.. _issues]
            : [Outcomes.Issue(OperationOutcome.IssueSeverity.Information, OperationOutcome.IssueType.Informational, AllOk)],
    };
}
