using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Agreements;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>What one source contributed to a read. The codes are the gateway's <c>wcr-source-outcome</c> CodeSystem.</summary>
public enum SourceOutcome
{
    Returned,
    NoMatch,
    Failed,
    TimedOut,
    Unreadable,
    CircuitOpen,
    Conflict,
    DemographicsDiffer,
    Unavailable,

    /// <summary>A background re-sweep found the patient at the source; no record was fetched.</summary>
    Located,
}

/// <summary>The result of asking one source for a patient's record.</summary>
/// <param name="Detail">Why the source did not contribute, in words for a clinician; never patient data.</param>
/// <param name="Patient">The source's record of the patient: the one resource a decision needs whole.</param>
/// <param name="Items">What the source answer pipeline kept besides the Patient, as bytes (see <see cref="SourceAnswers.KeptResources"/>).</param>
/// <param name="Withheld">Resources the source sent that were left out because they are not about the matched patient.</param>
public sealed record SourceResult(
    SourceGrant Grant,
    SourceOutcome Outcome,
    Patient? Patient,
    SourceAnswers.KeptResources Items,
    DateTimeOffset FetchedAt,
    string? Detail,
    int Withheld,
    int Calls)
{
    public string OdsCode => Grant.Source.OdsCode;

    public static string Code(SourceOutcome outcome) => outcome switch
    {
        SourceOutcome.Returned => "returned",
        SourceOutcome.NoMatch => "no-match",
        SourceOutcome.Failed => "failed",
        SourceOutcome.TimedOut => "timed-out",
        SourceOutcome.Unreadable => "unreadable",
        SourceOutcome.CircuitOpen => "circuit-open",
        SourceOutcome.Conflict => "conflict",
        SourceOutcome.DemographicsDiffer => "demographics-differ",
        SourceOutcome.Unavailable => "unavailable",
        SourceOutcome.Located => "located",
        _ => throw new ArgumentOutOfRangeException(nameof(outcome)),
    };
}

/// <summary>A source answered, but not with something the gateway can use. Counts against the source's circuit breaker.</summary>
public sealed class SourceFailureException(SourceOutcome outcome, string detail) : Exception(detail)
{
    public SourceOutcome Outcome { get; } = outcome;
}
