using WirralCareRecord.Demo.Population;

namespace WirralCareRecord.Demo.Sources;

/// <summary>How one synthetic source system behaves.</summary>
/// <param name="OdsCode">Which demo organisation's records it serves (see <see cref="SyntheticPopulation.Organisations"/>).</param>
/// <param name="Name">Shown in its CapabilityStatement.</param>
public sealed record DemoSourceOptions(string OdsCode, string Name)
{
    /// <summary>Added before every response, to stand in for a real system's network and processing time.</summary>
    public TimeSpan Latency { get; init; } = TimeSpan.Zero;

    /// <summary>Fraction of requests, 0 to 1, answered with a 500 OperationOutcome instead.</summary>
    public double FaultRate { get; init; }

    /// <summary>Seeds the choice of failing requests, so a run with faults can be repeated exactly; mixed with the ODS code so sources fail on different requests.</summary>
    public int FaultSeed { get; init; } = 20_260_401;

    /// <summary>
    /// Lengthens each person's history. At 1 a GP record averages about 40 resources (older people 50 to 75);
    /// at 3 about 100 (older people 110 to 180), and hospital and community records grow alike.
    /// </summary>
    public int RecordSizeMultiplier { get; init; } = 1;

    /// <summary>
    /// Answers each distinct GET from memory after its first time. The record store never changes, so the answer is the
    /// same; a benchmark then measures the gateway's work, not the source's serialising.
    /// </summary>
    public bool ReplayAnswers { get; init; }

    /// <summary>
    /// Whether its Patient search takes <c>_revinclude</c> of every record type (and <c>_id</c>), and says so in its
    /// CapabilityStatement, so the gateway fetches a record in one call instead of one per type. Off by default: many
    /// practice systems answer only the plain searches.
    /// </summary>
    public bool OfferRevInclude { get; init; }

    /// <summary>Whose records the source holds; the default population when null.</summary>
    public IReadOnlyList<SyntheticPerson>? People { get; init; }

    /// <summary>Options for one of the demo organisations, by ODS code.</summary>
    public static DemoSourceOptions For(DemoOrganisation organisation)
    {
        ArgumentNullException.ThrowIfNull(organisation);
        return new DemoSourceOptions(organisation.OdsCode, organisation.Name);
    }
}
