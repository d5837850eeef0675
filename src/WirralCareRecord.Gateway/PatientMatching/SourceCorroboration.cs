using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.PatientMatching;

/// <summary>How one source's Patient compares with the reference demographics.</summary>
/// <param name="OdsCode">The source's ODS code.</param>
/// <param name="Match">The comparison; its reasons are safe to show and log.</param>
public sealed record SourceDemographicMatch(string OdsCode, DemographicMatch Match);

/// <summary>The reference demographics chosen for an NHS number and how every source's Patient compares with them.</summary>
public sealed record CorroborationReport(ReferenceChoice Reference, IReadOnlyList<SourceDemographicMatch> Sources);

/// <summary>
/// Corroborates each source's Patient for an NHS number against reference demographics, in the order the sources were given.
/// </summary>
public static class SourceCorroboration
{
    /// <summary>The reason given for every source when the sources disagree and nothing settles who the patient is.</summary>
    public const string UnresolvedReason = "the sources disagree on this patient's date of birth or family name and none could be confirmed";

    /// <summary>Compares every source's Patient with <paramref name="reference"/>.</summary>
    public static IReadOnlyList<SourceDemographicMatch> Assess(Demographics reference, IReadOnlyList<(string OdsCode, Patient Patient)> sources)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(sources);

        return [.. sources.Select(s => new SourceDemographicMatch(s.OdsCode, DemographicMatcher.Compare(reference, Demographics.From(s.Patient))))];
    }

    /// <summary>
    /// Chooses the reference (<see cref="ReferenceDemographics.Choose"/>) and compares every source's Patient with it.
    /// A source that outvoted the others is still compared: it is a Match with itself, and the others are judged against it.
    /// When the choice is <see cref="ReferenceChoice.Unresolved"/> there is nothing to compare with, and no source matches.
    /// </summary>
    public static CorroborationReport Assess(IReadOnlyList<(string OdsCode, Patient Patient)> sources, Demographics? callerSupplied, TieBreakers? tieBreakers = null)
    {
        var reference = ReferenceDemographics.Choose(sources, callerSupplied, tieBreakers);
        if (reference.Unresolved)
        {
            var unconfirmed = new DemographicMatch(CorroborationOutcome.NoMatch, [UnresolvedReason]);
            return new CorroborationReport(reference, [.. sources.Select(s => new SourceDemographicMatch(s.OdsCode, unconfirmed))]);
        }

        return new CorroborationReport(reference, Assess(reference.Reference, sources));
    }
}
