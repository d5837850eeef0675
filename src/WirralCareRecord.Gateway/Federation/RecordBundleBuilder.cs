using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>
/// Merges what the sources returned into one searchset Bundle: entries addressed on the gateway, a Provenance
/// per contributing source, and an OperationOutcome (search mode <c>outcome</c>) for every source that did not contribute.
/// </summary>
public static class RecordBundleBuilder
{
    public const string AgreementPolicyBase = "https://fhir.wirralcarerecord.nhs.uk/agreements/";
    private const string OdsSystem = Onboarding.OdsCode.System;
    private const string ParticipantType = "http://terminology.hl7.org/CodeSystem/provenance-participant-type";

    /// <summary>The merged record; the caller decides what an empty one means (see the endpoint).</summary>
    public static Bundle Build(IReadOnlyList<SourceResult> results, string gatewayBase, string selfUrl, DateTimeOffset now, IReadOnlyList<OperationOutcome.IssueComponent>? notices = null)
    {
        var bundle = new Bundle
        {
            Id = Guid.NewGuid().ToString(),
            Type = Bundle.BundleType.Searchset,
            Timestamp = now,
            Meta = new Meta { LastUpdated = now },
            Link = [new Bundle.LinkComponent { Relation = "self", Url = selfUrl }],
        };

        foreach (var result in results.Where(r => r.Outcome == SourceOutcome.Returned))
        {
            var gatewaySourceBase = GatewayAddresses.SourceBase(gatewayBase, result.OdsCode);
            var rewriter = new SourceAnswers.AddressRewriter(new SourceAnswers.SourceLocation(result.Grant.Source.FhirBaseUrl, gatewaySourceBase));
            var targets = new List<ResourceReference>();
            foreach (var resource in result.Resources.Prepend(result.Patient!))
            {
                GatewayAddresses.Rewrite(resource, rewriter);
                resource.Meta ??= new Meta();
                resource.Meta.Source = gatewaySourceBase;
                var fullUrl = $"{gatewaySourceBase}/{resource.TypeName}/{resource.Id}";
                bundle.Entry.Add(new Bundle.EntryComponent
                {
                    FullUrl = fullUrl,
                    Resource = resource,
                    Search = new Bundle.SearchComponent { Mode = resource is Patient ? Bundle.SearchEntryMode.Match : Bundle.SearchEntryMode.Include },
                });
                targets.Add(new ResourceReference(fullUrl));
            }

            bundle.Entry.Add(ProvenanceEntry(result, targets));
        }

        SameItemLinker.Link(results
            .Where(r => r.Outcome == SourceOutcome.Returned)
            .SelectMany(r => r.Resources.Select(resource => (r.OdsCode, resource))));
        bundle.Total = bundle.Entry.Count(e => e.Search?.Mode == Bundle.SearchEntryMode.Match);
        // Notices about the whole record (what the patient was confirmed against, break-glass) come before the per-source issues.
        var issues = (notices ?? []).Concat(Issues(results)).ToList();
        if (issues.Count > 0)
        {
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = "urn:uuid:" + Guid.NewGuid(),
                Resource = new OperationOutcome { Id = Guid.NewGuid().ToString(), Issue = issues },
                Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Outcome },
            });
        }

        return bundle;
    }

    /// <summary>One issue per source that did not contribute fully, naming it by ODS code.</summary>
    public static List<OperationOutcome.IssueComponent> Issues(IEnumerable<SourceResult> results)
    {
        var issues = new List<OperationOutcome.IssueComponent>();
        foreach (var result in results)
        {
            var source = result.Grant.Source;
            var name = $"{source.Name} ({source.OdsCode})";
            var code = SourceResult.Code(result.Outcome);
            if (result.Outcome != SourceOutcome.Returned)
            {
                var (severity, type) = result.Outcome switch
                {
                    SourceOutcome.NoMatch => (OperationOutcome.IssueSeverity.Information, OperationOutcome.IssueType.NotFound),
                    SourceOutcome.TimedOut => (OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.Timeout),
                    SourceOutcome.Conflict => (OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.MultipleMatches),
                    SourceOutcome.DemographicsDiffer => (OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.Conflict),
                    SourceOutcome.CircuitOpen or SourceOutcome.Unavailable => (OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.Transient),
                    _ => (OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.Exception),
                };
                issues.Add(SourceIssue(severity, type, code, source.OdsCode, $"{name} {result.Detail}. Its data is not in this record."));
            }

            if (result.Withheld > 0)
            {
                issues.Add(SourceIssue(
                    OperationOutcome.IssueSeverity.Warning,
                    OperationOutcome.IssueType.Suppressed,
                    "withheld",
                    source.OdsCode,
                    $"{name}: {result.Withheld} item(s) were withheld: they could not be confirmed as this patient's, fall outside the sharing agreement, or are marked restricted."));
            }
        }

        return issues;
    }

    private static OperationOutcome.IssueComponent SourceIssue(OperationOutcome.IssueSeverity severity, OperationOutcome.IssueType type, string code, string odsCode, string message)
    {
        var issue = Outcomes.Issue(severity, type, message);
        (issue.Details ??= new CodeableConcept()).Coding.Add(new Coding(Audit.AuditEventFactory.SourceOutcomeSystem, code));
        // The ODS code is also given on its own, so systems can tell sources apart without parsing the message.
        issue.Location = [$"{OdsSystem}|{odsCode}"];
        return issue;
    }

    private static Bundle.EntryComponent ProvenanceEntry(SourceResult result, List<ResourceReference> targets)
    {
        var source = result.Grant.Source;
        var provenance = new Provenance
        {
            Id = Guid.NewGuid().ToString(),
            Target = targets,
            Recorded = result.FetchedAt,
            Policy = [.. result.Grant.AgreementIds.Select(id => AgreementPolicyBase + id)],
            Agent =
            [
                new Provenance.AgentComponent
                {
                    Type = new CodeableConcept(ParticipantType, "custodian", "Custodian"),
                    Who = new ResourceReference { Identifier = new Identifier(OdsSystem, source.OdsCode), Display = source.Name },
                },
            ],
        };
        return new Bundle.EntryComponent { FullUrl = "urn:uuid:" + provenance.Id, Resource = provenance, Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Include } };
    }
}
