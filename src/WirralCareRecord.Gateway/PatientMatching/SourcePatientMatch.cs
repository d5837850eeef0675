using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.PatientMatching;

/// <summary>How a source's answer to "who has this NHS number" was judged.</summary>
public enum MatchOutcome
{
    Match,
    NoMatch,
    Conflict,
}

/// <summary>The decision for one source's Patient search, with the reason in words a clinician can act on.</summary>
public sealed record SourcePatientMatch(MatchOutcome Outcome, Patient? Patient, string Reason);

/// <summary>
/// Decides which Patient at a source is the person asked for. A source's search result is not trusted as it is:
/// a Patient counts only if it carries the NHS number itself, and more than one such Patient is a conflict
/// that is reported, never merged.
/// </summary>
public static class PatientMatcher
{
    public static SourcePatientMatch Match(IEnumerable<Patient> candidates, string nhsNumber)
    {
        var carrying = candidates
            // A Patient without an id cannot be the subject of anything the source sends, so it cannot be matched.
            .Where(p => !string.IsNullOrEmpty(p.Id) && p.Identifier.Any(i => i.System == NhsNumber.System && NhsNumber.Standardise(i.Value) == nhsNumber))
            .GroupBy(p => p.Id)
            .Select(g => g.First())
            .ToList();
        return carrying.Count switch
        {
            0 => new(MatchOutcome.NoMatch, null, "holds no patient with this NHS number (the gateway does not search by name or other identifiers, so a record held without the NHS number is not found)"),
            1 => new(MatchOutcome.Match, carrying[0], "patient found by NHS number"),
            _ => new(MatchOutcome.Conflict, null, $"returned {carrying.Count} different patients for this NHS number, so none of its data has been included"),
        };
    }
}
