using System.Buffers;
using System.Globalization;
using System.Text;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.SourceAnswers;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>
/// Writes what the sources returned as one searchset Bundle, straight from the kept resources' bytes: entries addressed
/// on the gateway, a Provenance per contributing source, same items linked across sources, and an OperationOutcome
/// (search mode <c>outcome</c>) for every source that did not contribute. Only the Patients and the OperationOutcome
/// go through the SDK; every other resource is copied with its addresses rewritten (<see cref="AddressRewriter"/>).
/// </summary>
public static class RecordBundleBuilder
{
    public const string AgreementPolicyBase = "https://fhir.wirralcarerecord.nhs.uk/agreements/";
    private const string OdsSystem = Onboarding.OdsCode.System;
    private const string ParticipantType = "http://terminology.hl7.org/CodeSystem/provenance-participant-type";

    /// <summary>The merged record into <paramref name="output"/>; the caller decides what an empty one means (see the endpoint).</summary>
    internal static void Write(IReadOnlyList<SourceResult> results, string gatewayBase, string selfUrl, DateTimeOffset now, IReadOnlyList<OperationOutcome.IssueComponent>? notices, IBufferWriter<byte> output)
    {
        var returned = results.Where(r => r.Outcome == SourceOutcome.Returned).ToList();
        var sameItems = SameItemLinker.Link([.. returned.Select(r => (r.OdsCode, r.Items))]);
        Raw(output, "{\"resourceType\":\"Bundle\",\"id\":");
        AddressRewriter.WriteString(output, FreshId.New().ToString());
        Raw(output, ",\"meta\":{\"lastUpdated\":");
        AddressRewriter.WriteString(output, Instant(now));
        Raw(output, "},\"type\":\"searchset\",\"timestamp\":");
        AddressRewriter.WriteString(output, Instant(now));
        Raw(output, string.Create(CultureInfo.InvariantCulture, $",\"total\":{returned.Count + returned.Sum(r => r.Items.Items.Count(i => i.ResourceType == "Patient"))},\"link\":[{{\"relation\":\"self\",\"url\":"));
        AddressRewriter.WriteString(output, selfUrl);
        Raw(output, "}],\"entry\":[");

        var first = true;
        var targets = new List<(string Type, string Id)>(returned.Count == 0 ? 0 : returned.Max(r => r.Items.Count));
        for (var s = 0; s < returned.Count; s++)
        {
            var result = returned[s];
            var gatewaySourceBase = GatewayAddresses.SourceBase(gatewayBase, result.OdsCode);
            var rewriter = new AddressRewriter(new SourceLocation(result.Grant.Source.FhirBaseUrl, gatewaySourceBase));
            targets.Clear();
            var patient = result.Patient!;
            var patientJson = FhirJson.SerializeToUtf8(patient);
            var patientParts = ItemFacts.Read(patientJson, "Patient", patient.Id ?? "")?.Parts
                ?? throw new InvalidOperationException("The SDK wrote a Patient whose meta it cannot read back.");
            Entry(patientJson, patientParts.Span, "Patient", patient.Id ?? "", "match", null);
            for (var i = 0; i < result.Items.Count; i++)
            {
                var item = result.Items[i];
                // Any Patient the source sent about this person (a record it merged, say) is a match, as the patient is.
                Entry(item.Json.Span, item.Facts.Parts.Span, item.ResourceType, item.Id, item.ResourceType == "Patient" ? "match" : "include", sameItems[s][i] is { } tag ? (SameItemLinker.TagSystem, tag.Code, tag.Display) : null);
            }

            Separator();
            WriteProvenance(result, gatewaySourceBase, targets, output);

            void Entry(ReadOnlySpan<byte> json, ReadOnlySpan<int> parts, string type, string id, string mode, (string, string, string)? sameItem)
            {
                targets.Add((type, id));
                Separator();
                Raw(output, "{\"fullUrl\":");
                WriteAddress(output, gatewaySourceBase, type, id);
                Raw(output, ",\"resource\":");
                MetaStamp.Write(json, parts, rewriter, gatewaySourceBase, sameItem, output);
                Raw(output, mode == "match" ? ",\"search\":{\"mode\":\"match\"}}" : ",\"search\":{\"mode\":\"include\"}}");
            }
        }

        // Notices about the whole record (what the patient was confirmed against, break-glass) come before the per-source issues.
        var issues = (notices ?? []).Concat(Issues(results)).ToList();
        if (issues.Count > 0)
        {
            Separator();
            Raw(output, "{\"fullUrl\":");
            AddressRewriter.WriteString(output, "urn:uuid:" + FreshId.New());
            Raw(output, ",\"resource\":");
            output.Write(FhirJson.SerializeToUtf8(new OperationOutcome { Id = FreshId.New().ToString(), Issue = issues }));
            Raw(output, ",\"search\":{\"mode\":\"outcome\"}}");
        }

        Raw(output, "]}");

        void Separator()
        {
            if (!first)
            {
                Raw(output, ",");
            }

            first = false;
        }
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

    /// <summary>The source's Provenance entry: custodian, when it answered, the agreements it shared under, what it contributed.</summary>
    private static void WriteProvenance(SourceResult result, string gatewaySourceBase, List<(string Type, string Id)> targets, IBufferWriter<byte> output)
    {
        var source = result.Grant.Source;
        var id = FreshId.New().ToString();
        Raw(output, "{\"fullUrl\":");
        AddressRewriter.WriteString(output, "urn:uuid:" + id);
        Raw(output, ",\"resource\":{\"resourceType\":\"Provenance\",\"id\":");
        AddressRewriter.WriteString(output, id);
        Raw(output, ",\"target\":[");
        for (var i = 0; i < targets.Count; i++)
        {
            Raw(output, i == 0 ? "{\"reference\":" : ",{\"reference\":");
            WriteAddress(output, gatewaySourceBase, targets[i].Type, targets[i].Id);
            Raw(output, "}");
        }

        Raw(output, "],\"recorded\":");
        AddressRewriter.WriteString(output, Instant(result.FetchedAt));
        if (result.Grant.AgreementIds.Count > 0)
        {
            Raw(output, ",\"policy\":[");
            var firstPolicy = true;
            foreach (var agreement in result.Grant.AgreementIds)
            {
                Raw(output, firstPolicy ? "" : ",");
                firstPolicy = false;
                AddressRewriter.WriteString(output, AgreementPolicyBase + agreement);
            }

            Raw(output, "]");
        }

        Raw(output, ",\"agent\":[{\"type\":{\"coding\":[{\"system\":");
        AddressRewriter.WriteString(output, ParticipantType);
        Raw(output, ",\"code\":\"custodian\"}],\"text\":\"Custodian\"},\"who\":{\"identifier\":{\"system\":");
        AddressRewriter.WriteString(output, OdsSystem);
        Raw(output, ",\"value\":");
        AddressRewriter.WriteString(output, source.OdsCode);
        Raw(output, "},\"display\":");
        AddressRewriter.WriteString(output, source.Name);
        Raw(output, "}}]},\"search\":{\"mode\":\"include\"}}");
    }

    /// <summary>An item's address on the gateway, <c>{source base}/{type}/{id}</c>, as a JSON string, without building it first.</summary>
    private static void WriteAddress(IBufferWriter<byte> output, string gatewaySourceBase, string type, string id)
    {
        if (!AddressRewriter.IsVerbatim(gatewaySourceBase) || !AddressRewriter.IsVerbatim(type) || !AddressRewriter.IsVerbatim(id))
        {
            AddressRewriter.WriteString(output, $"{gatewaySourceBase}/{type}/{id}");
            return;
        }

        var length = gatewaySourceBase.Length + type.Length + id.Length + 4;
        var span = output.GetSpan(length);
        span[0] = (byte)'"';
        var at = 1 + Encoding.ASCII.GetBytes(gatewaySourceBase, span[1..]);
        span[at++] = (byte)'/';
        at += Encoding.ASCII.GetBytes(type, span[at..]);
        span[at++] = (byte)'/';
        at += Encoding.ASCII.GetBytes(id, span[at..]);
        span[at++] = (byte)'"';
        output.Advance(at);
    }

    private static string Instant(DateTimeOffset value) => value.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);

    private static void Raw(IBufferWriter<byte> output, string ascii)
    {
        var span = output.GetSpan(ascii.Length);
        output.Advance(Encoding.ASCII.GetBytes(ascii, span));
    }
}
