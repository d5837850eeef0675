using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>What corroboration decided for a read: the results to merge, and which demographics they were judged against.</summary>
/// <param name="Reference">
/// The reference chosen; when it is <see cref="ReferenceChoice.Unresolved"/> no result is Returned and the read must
/// ask the caller who they mean.
/// </param>
public sealed record CorroboratedRecord(IReadOnlyList<SourceResult> Results, ReferenceChoice? Reference)
{
    /// <summary>The sources disagree on who the patient is and nothing settled it: no source is merged.</summary>
    public bool Unresolved => Reference?.Unresolved == true;
}

/// <summary>
/// Applies demographic corroboration to what the sources returned. A source whose patient is only a possible
/// match, or no match, is never merged: its data is dropped here, before the Bundle is built, and the answer
/// says which organisation holds a record with that NHS number whose demographics differ, without its details.
/// </summary>
public static class RecordCorroboration
{
    /// <summary>Corroborates <paramref name="results"/> (see <see cref="ReferenceDemographics"/> for how the reference is chosen).</summary>
    /// <param name="results">What each source returned.</param>
    /// <param name="callerSupplied">Demographics the caller gave, if any.</param>
    /// <param name="askService">
    /// The demographics service's Patient for the NHS number (null when none is configured or it did not answer);
    /// called only when the sources' vote is tied, and at most once.
    /// </param>
    /// <param name="cancellationToken">The read's cancellation.</param>
    public static async Task<CorroboratedRecord> ApplyAsync(
        IReadOnlyList<SourceResult> results,
        Demographics? callerSupplied,
        Func<CancellationToken, Task<Patient?>> askService,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(askService);
        var returned = results.Where(r => r.Outcome == SourceOutcome.Returned).Select(r => (r.OdsCode, r.Patient!)).ToList();
        if (returned.Count == 0)
        {
            return new CorroboratedRecord(results, null);
        }

        var tieBreakers = TieBreakers.None;
        if (ReferenceDemographics.IsTied(returned))
        {
            var service = await askService(cancellationToken);
            tieBreakers = new TieBreakers(service is null ? null : Demographics.From(service), CommonPractices(returned));
        }

        var report = SourceCorroboration.Assess(returned, callerSupplied, tieBreakers);
        var verdicts = report.Sources.ToDictionary(s => s.OdsCode, s => s.Match, StringComparer.OrdinalIgnoreCase);
        var judged = results.Select(result =>
        {
            if (result.Outcome != SourceOutcome.Returned || verdicts[result.OdsCode].Outcome == CorroborationOutcome.Match)
            {
                return result;
            }

            var match = verdicts[result.OdsCode];
            var detail = report.Reference.Unresolved
                ? "holds a record with this NHS number, but the organisations holding it disagree on the patient's demographics and none could be confirmed as this patient's"
                : match.Outcome == CorroborationOutcome.PossibleMatch
                    ? $"holds a record with this NHS number that may be the same person but could not be confirmed ({Differences(match)})"
                    : $"holds a record with this NHS number whose demographics differ from this patient's ({Differences(match)})";
            // Not merged, so its kept items go back to the pool now.
            result.Items.Dispose();
            return result with { Outcome = SourceOutcome.DemographicsDiffer, Patient = null, Items = SourceAnswers.KeptResources.None, Detail = detail };
        }).ToList();
        return new CorroboratedRecord(judged, report.Reference);
    }

    /// <summary>
    /// The practice(s) every source names as the patient's GP, or none when any source names none or names others: a
    /// practice only some sources name is one source's word against another's, which is what the tie already is.
    /// </summary>
    private static HashSet<string> CommonPractices(IReadOnlyList<(string OdsCode, Patient Patient)> sources)
    {
        var named = sources.Select(s => FhirSourceClient.RegisteredPracticesOf(s.Patient).ToHashSet(StringComparer.OrdinalIgnoreCase)).ToList();
        return named.All(set => set.Count > 0 && set.SetEquals(named[0])) ? named[0] : new HashSet<string>(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Only what disagreed: the reasons are fixed phrases and never carry the other record's values.</summary>
    private static string Differences(DemographicMatch match) =>
        string.Join("; ", match.Reasons.Where(r => !r.EndsWith("matches", StringComparison.Ordinal)));
}
