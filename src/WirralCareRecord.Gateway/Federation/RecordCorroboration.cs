using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>What corroboration decided for a read: the results to merge, and which demographics they were judged against.</summary>
public sealed record CorroboratedRecord(IReadOnlyList<SourceResult> Results, ReferenceChoice? Reference);

/// <summary>
/// Applies demographic corroboration to what the sources returned. A source whose patient is only a possible
/// match, or no match, is never merged: its data is dropped here, before the Bundle is built, and the answer
/// says which organisation holds a record with that NHS number whose demographics differ, without its details.
/// </summary>
public static class RecordCorroboration
{
    public static CorroboratedRecord Apply(IReadOnlyList<SourceResult> results, Demographics? callerSupplied)
    {
        var returned = results.Where(r => r.Outcome == SourceOutcome.Returned).Select(r => (r.OdsCode, r.Patient!)).ToList();
        if (returned.Count == 0)
        {
            return new CorroboratedRecord(results, null);
        }

        var report = SourceCorroboration.Assess(returned, callerSupplied);
        var verdicts = report.Sources.ToDictionary(s => s.OdsCode, s => s.Match, StringComparer.OrdinalIgnoreCase);
        var judged = results.Select(result =>
        {
            if (result.Outcome != SourceOutcome.Returned || verdicts[result.OdsCode].Outcome == CorroborationOutcome.Match)
            {
                return result;
            }

            var match = verdicts[result.OdsCode];
            var detail = match.Outcome == CorroborationOutcome.PossibleMatch
                ? $"holds a record with this NHS number that may be the same person but could not be confirmed ({Differences(match)})"
                : $"holds a record with this NHS number whose demographics differ from this patient's ({Differences(match)})";
            // Not merged, so its kept items go back to the pool now.
            result.Items.Dispose();
            return result with { Outcome = SourceOutcome.DemographicsDiffer, Patient = null, Items = SourceAnswers.KeptResources.None, Detail = detail };
        }).ToList();
        return new CorroboratedRecord(judged, report.Reference);
    }

    /// <summary>Only what disagreed: the reasons are fixed phrases and never carry the other record's values.</summary>
    private static string Differences(DemographicMatch match) =>
        string.Join("; ", match.Reasons.Where(r => !r.EndsWith("matches", StringComparison.Ordinal)));
}
