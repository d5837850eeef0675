using WirralCareRecord.Gateway.Agreements;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>Where one source stands in a read that is still going on.</summary>
public enum SourceProgressState
{
    Asking,

    /// <summary>The source answered: with the patient's record or without it, which is not said until the read is audited.</summary>
    Answered,
    Failed,
    TimedOut,

    /// <summary>Not asked: its circuit breaker is open or it is failing the gateway's health checks.</summary>
    NotAsked,
}

/// <summary>
/// One step of a read, for a page to show while the other sources are still answering. It is sent before the read is
/// audited, so it carries the organisation and how the call went, never anything about the patient: not even whether
/// the source holds them (a no-match is <see cref="SourceProgressState.Answered"/>, like a record).
/// </summary>
public sealed record SourceProgress(string OdsCode, string Name, SourceProgressState State, TimeSpan Elapsed)
{
    public static SourceProgress Asking(SourceGrant grant) => new(grant.Source.OdsCode, grant.Source.Name, SourceProgressState.Asking, TimeSpan.Zero);

    public static SourceProgress Of(SourceResult result, TimeSpan elapsed) => new(result.OdsCode, result.Grant.Source.Name, result.Outcome switch
    {
        SourceOutcome.Returned or SourceOutcome.NoMatch or SourceOutcome.Conflict or SourceOutcome.DemographicsDiffer or SourceOutcome.Located => SourceProgressState.Answered,
        SourceOutcome.TimedOut => SourceProgressState.TimedOut,
        SourceOutcome.CircuitOpen or SourceOutcome.Unavailable => SourceProgressState.NotAsked,
        _ => SourceProgressState.Failed,
    }, elapsed);
}

/// <summary>
/// Told about a read as each source is asked and answers. Awaited, unlike <see cref="IProgress{T}"/>, because the
/// record page writes each step to the browser before the next; the read's other callers pass none.
/// </summary>
internal interface IReadProgress
{
    ValueTask ReportAsync(SourceProgress progress);
}
