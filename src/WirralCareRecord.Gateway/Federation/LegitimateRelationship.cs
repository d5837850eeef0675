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
            foreach (var resource in result.Resources)
            {
                var (provider, start) = resource switch
                {
                    Encounter e => (e.ServiceProvider, e.Period?.StartElement?.ToDateTimeOffset(TimeSpan.Zero)),
                    EpisodeOfCare e => (e.ManagingOrganization, e.Period?.StartElement?.ToDateTimeOffset(TimeSpan.Zero)),
                    _ => (null, (DateTimeOffset?)null),
                };
                var atCaller = provider is null ? atSource : IsOrganisation(provider, callerOds);
                if (atCaller && start is { } when && when >= since)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool IsOrganisation(ResourceReference reference, string odsCode) =>
        reference.Identifier is { System: OdsCode.System } id && string.Equals(id.Value, odsCode, StringComparison.OrdinalIgnoreCase);
}
