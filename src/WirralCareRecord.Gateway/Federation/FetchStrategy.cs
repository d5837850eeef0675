namespace WirralCareRecord.Gateway.Federation;

/// <summary>How the gateway fetches a patient's record from one source, cheapest first.</summary>
public enum FetchStrategy
{
    /// <summary>
    /// One search, <c>Patient?identifier=...&amp;_revinclude=Condition:patient&amp;...</c>: the patient and every record
    /// type in one call (plus pages, and one more for a merged record).
    /// </summary>
    RevInclude,

    /// <summary>The Patient search, then one <c>batch</c> Bundle holding a search per record type: two calls.</summary>
    Batch,

    /// <summary>The Patient search, then one search per record type in parallel: what every FHIR server can answer.</summary>
    PerType,
}

/// <summary>What a source's CapabilityStatement says it can do, as far as choosing a <see cref="FetchStrategy"/> goes.</summary>
/// <param name="Known">False when the CapabilityStatement could not be read: only <see cref="FetchStrategy.PerType"/> is safe.</param>
/// <param name="PatientRevIncludes">The <c>searchRevInclude</c> values of its Patient resource (e.g. <c>Condition:patient</c>).</param>
/// <param name="Batch">Whether it lists the <c>batch</c> system interaction.</param>
public sealed record SourceCapability(bool Known, IReadOnlySet<string> PatientRevIncludes, bool Batch, DateTimeOffset ReadAt)
{
    public static SourceCapability Unknown(DateTimeOffset at) => new(false, new HashSet<string>(), false, at);

    /// <summary>The <c>_revinclude</c> value the gateway sends for one record type.</summary>
    public static string RevIncludeOf(string type) => type + ":patient";

    /// <summary>
    /// The cheapest strategy the source supports for these record types: <c>_revinclude</c> when its Patient search
    /// lists a reverse include for every one of them (or <c>*</c>), else a batch when it takes batches, else a search per type.
    /// </summary>
    public FetchStrategy StrategyFor(IReadOnlyCollection<string> types) =>
        !Known ? FetchStrategy.PerType
        : PatientRevIncludes.Contains("*") || types.All(t => PatientRevIncludes.Contains(RevIncludeOf(t))) ? FetchStrategy.RevInclude
        : Batch ? FetchStrategy.Batch
        : FetchStrategy.PerType;

    public static string Code(FetchStrategy strategy) => strategy switch
    {
        FetchStrategy.RevInclude => "revinclude",
        FetchStrategy.Batch => "batch",
        FetchStrategy.PerType => "per-type",
        _ => throw new ArgumentOutOfRangeException(nameof(strategy)),
    };
}
