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
    /// </summary>
    public static CorroborationReport Assess(IReadOnlyList<(string OdsCode, Patient Patient)> sources, Demographics? callerSupplied)
    {
        var reference = ReferenceDemographics.Choose(sources, callerSupplied);
        return new CorroborationReport(reference, Assess(reference.Reference, sources));
    }
}
