using System.Buffers;
using System.Globalization;
using System.Text;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>One resource of an answer, its type and id, and what the rules decided for it.</summary>
internal readonly record struct EntryDecision(EntrySlice Slice, string? ResourceType, string? Id, Withholding Withholding)
{
    public bool Kept => Withholding == Withholding.None;
}

/// <summary>What was decided for every resource of one answer, with counts of what was withheld and why.</summary>
internal sealed class AnswerDecisions
{
    public ChunkedList<EntryDecision> Entries { get; } = new();

    public int Kept => Entries.Count(e => e.Kept);

    public int Withheld => Entries.Count(e => !e.Kept);

    public int WithheldFor(Withholding reason) => Entries.Count(e => e.Withholding == reason);

    /// <summary>Counts only, in words a clinician can act on: never what the items were.</summary>
    public string? Summary()
    {
        if (Withheld == 0)
        {
            return null;
        }

        var parts = new List<string>();
        Add(Withholding.NotThisPatient, "could not be confirmed as this patient's or named someone else");
        Add(Withholding.Restricted, "are marked restricted");
        Add(Withholding.OutsideAgreement, "fall outside the sharing agreement");
        Add(Withholding.Undecidable, "could not be checked");
        return $"{Withheld} item(s) were withheld: " + string.Join("; ", parts) + ".";

        void Add(Withholding reason, string words)
        {
            var count = WithheldFor(reason);
            if (count > 0)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"{count} {words}"));
            }
        }
    }
}

/// <summary>
/// The source answer pipeline's one pass: every resource of a source's answer (a read or a Bundle's entries) is
/// read for its facts and decided by <see cref="DisclosurePolicy"/>; what is kept is copied out with the source's
/// addresses rewritten. The federated read and the source route both go through here.
/// </summary>
internal static class SourceAnswerFilter
{
    /// <summary>Decides every resource of the answer. Entries without a resource and the source's own OperationOutcomes are left out uncounted.</summary>
    /// <param name="binaryByLink">A document opened by a link the gateway signed for this patient: a Binary is kept unless restricted.</param>
    public static AnswerDecisions Decide(AnswerPage page, PatientScope scope, bool binaryByLink = false)
    {
        var decisions = new AnswerDecisions();
        var index = page.Index;
        using var scanner = FactsScanner.Rent();
        foreach (var entry in index.Entries)
        {
            if (entry.Start < 0)
            {
                continue;
            }

            var facts = page.FactsOf(entry, scope.Labels, scanner);
            if (facts.ResourceType == "OperationOutcome" && index.IsBundle)
            {
                continue;
            }

            var decision = binaryByLink && facts.ResourceType == "Binary" && !index.IsBundle && !facts.Malformed
                ? facts.AnyRestricted ? Withholding.Restricted : Withholding.None
                : DisclosurePolicy.Decide(facts, scope);
            decisions.Entries.Add(new EntryDecision(entry, facts.ResourceType, facts.Id, decision));
        }

        return decisions;
    }

    /// <summary>The kept resource of a single-resource answer, rewritten, into <paramref name="output"/>.</summary>
    public static void WriteResource(AnswerPage page, EntryDecision decision, AddressRewriter rewriter, IBufferWriter<byte> output)
    {
        using var bytes = page.Slice(decision.Slice);
        rewriter.Copy(bytes.Span, output);
    }

    /// <summary>
    /// A searchset Bundle of the kept resources, addressed on the gateway, with <paramref name="links"/> (already
    /// the gateway's) and an OperationOutcome entry counting what was withheld. No <c>total</c>: the source's counted
    /// what the gateway may have withheld.
    /// </summary>
    public static void WriteSearchset(AnswerPage page, AnswerDecisions decisions, AddressRewriter rewriter, IReadOnlyList<(string Relation, string Url)> links, DateTimeOffset now, string correlationId, IBufferWriter<byte> output, IReadOnlyList<OperationOutcome.IssueComponent>? notices = null)
    {
        Raw(output, "{\"resourceType\":\"Bundle\",\"id\":");
        AddressRewriter.WriteString(output, FreshId.New().ToString());
        Raw(output, ",\"meta\":{\"lastUpdated\":");
        AddressRewriter.WriteString(output, now.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
        Raw(output, "},\"type\":\"searchset\"");
        if (links.Count > 0)
        {
            Raw(output, ",\"link\":[");
            for (var i = 0; i < links.Count; i++)
            {
                Raw(output, i == 0 ? "{\"relation\":" : ",{\"relation\":");
                AddressRewriter.WriteString(output, links[i].Relation);
                Raw(output, ",\"url\":");
                AddressRewriter.WriteString(output, links[i].Url);
                Raw(output, "}");
            }

            Raw(output, "]");
        }

        Raw(output, ",\"entry\":[");
        var first = true;
        foreach (var decision in decisions.Entries.Where(d => d.Kept))
        {
            Raw(output, first ? "{\"fullUrl\":" : ",{\"fullUrl\":");
            first = false;
            var fullUrl = page.FullUrlOf(decision.Slice) is { } given && rewriter.Location.LocalPart(given) is not null
                ? rewriter.RewriteText(given)
                : $"{rewriter.Location.GatewaySourceBase}/{decision.ResourceType}/{decision.Id}";
            AddressRewriter.WriteString(output, fullUrl);
            Raw(output, ",\"resource\":");
            WriteResource(page, decision, rewriter, output);
            Raw(output, decision.Slice.SearchMode == "include" ? ",\"search\":{\"mode\":\"include\"}}" : ",\"search\":{\"mode\":\"match\"}}");
        }

        var issues = (notices ?? []).ToList();
        if (decisions.Summary() is { } summary)
        {
            issues.Add(Outcomes.Issue(OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.Suppressed, summary));
        }

        if (issues.Count > 0)
        {
            var outcome = new OperationOutcome { Id = correlationId, Issue = issues };
            Raw(output, first ? "{\"fullUrl\":" : ",{\"fullUrl\":");
            AddressRewriter.WriteString(output, "urn:uuid:" + FreshId.New());
            Raw(output, ",\"resource\":");
            output.Write(FhirJson.SerializeToUtf8(outcome));
            Raw(output, ",\"search\":{\"mode\":\"outcome\"}}");
        }

        Raw(output, "]}");
    }

    private static void Raw(IBufferWriter<byte> output, string ascii)
    {
        var span = output.GetSpan(ascii.Length);
        var written = Encoding.ASCII.GetBytes(ascii, span);
        output.Advance(written);
    }
}
