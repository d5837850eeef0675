using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>
/// Whether the caller's organisation has a legitimate relationship with the patient, answered from the federated data
/// itself: the patient is registered with the caller's practice, or has an encounter or episode of care at the caller's
/// organisation within the look-back period.
/// </summary>
public static class LegitimateRelationship
{
    public static bool Holds(IReadOnlyList<SourceResult> results, string callerOds, DateTimeOffset now, int days)
    {
        var since = now.AddDays(-days);
        var returned = results.Where(r => r.Outcome == SourceOutcome.Returned).ToList();
        var registered = returned.Any(r => r.Patient!.GeneralPractitioner.Any(g => IsOrganisation(g, callerOds)));
        if (registered)
        {
            return true;
        }

        foreach (var result in returned)
        {
            // Everything a source holds happened at that source's organisation unless the item names another provider.
            var atSource = string.Equals(result.OdsCode, callerOds, StringComparison.OrdinalIgnoreCase);
            foreach (var item in result.Items.Items)
            {
                var facts = item.Facts;
                if (facts.ResourceType is not ("Encounter" or "EpisodeOfCare"))
                {
                    continue;
                }

                var atCaller = facts.HasProvider ? string.Equals(facts.ProviderOdsCode, callerOds, StringComparison.OrdinalIgnoreCase) : atSource;
                if (atCaller && StartOf(facts.PeriodStart) is { } when && when >= since)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>A period start as FHIR writes it (a partial date counts from its first moment); null when unreadable.</summary>
    private static DateTimeOffset? StartOf(string? start)
    {
        return start is not null && new FhirDateTime(start).TryToDateTimeOffset(TimeSpan.Zero, out var when) ? when : null;
    }

    private static bool IsOrganisation(ResourceReference reference, string odsCode) =>
        reference.Identifier is { System: OdsCode.System } id && string.Equals(id.Value, odsCode, StringComparison.OrdinalIgnoreCase);
}
