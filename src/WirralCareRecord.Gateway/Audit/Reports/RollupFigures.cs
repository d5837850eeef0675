using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// One caller organisation's story-once figures over a span of days: the counts, and the exact sets (of pseudonyms)
/// that distinct counts over longer spans are unions of. Distinct staff in a month is not the sum of distinct staff
/// per day; the union of the days' sets is exact.
/// </summary>
internal sealed class OrganisationFigures
{
    public static OrganisationFigures Empty { get; } = new();

    public int Retrievals { get; init; }

    public int MultiSetting { get; init; }

    /// <summary>Retrievals made from the clinician's local system: its API call, or a context launch from it.</summary>
    public int FromLocalSystem { get; init; }

    /// <summary>Of those, retrievals opened by a SMART context launch.</summary>
    public int ContextLaunch { get; init; }

    public int FailedSource { get; init; }

    public int NotFound { get; init; }

    public int Refusals { get; init; }

    public int BreakGlass { get; init; }

    public PseudonymSet Staff { get; init; } = PseudonymSet.Empty;

    public PseudonymSet Patients { get; init; } = PseudonymSet.Empty;

    public IReadOnlySet<string> SourcesReturned { get; init; } = new SortedSet<string>(StringComparer.Ordinal);

    /// <summary>Counts added, sets united: the figures of the parts' spans taken together.</summary>
    public static OrganisationFigures Union(IReadOnlyList<OrganisationFigures> parts)
    {
        if (parts.Count == 1)
        {
            return parts[0];
        }

        var sources = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var part in parts)
        {
            sources.UnionWith(part.SourcesReturned);
        }

        return new OrganisationFigures
        {
            Retrievals = parts.Sum(p => p.Retrievals),
            MultiSetting = parts.Sum(p => p.MultiSetting),
            FromLocalSystem = parts.Sum(p => p.FromLocalSystem),
            ContextLaunch = parts.Sum(p => p.ContextLaunch),
            FailedSource = parts.Sum(p => p.FailedSource),
            NotFound = parts.Sum(p => p.NotFound),
            Refusals = parts.Sum(p => p.Refusals),
            BreakGlass = parts.Sum(p => p.BreakGlass),
            Staff = PseudonymSet.Union([.. parts.Select(p => p.Staff)]),
            Patients = PseudonymSet.Union([.. parts.Select(p => p.Patients)]),
            SourcesReturned = sources,
        };
    }
}

/// <summary>
/// The story-once figures of a span of days (one day, or a sealed month), per caller organisation: what the report
/// reads. A day's are made by <see cref="DayRollup.Add"/>; a month's are the <see cref="Union"/> of its days', so the
/// two can never disagree.
/// </summary>
internal sealed class RollupFigures(
    int events,
    IReadOnlyDictionary<string, OrganisationFigures> organisations,
    IReadOnlyDictionary<string, OrganisationKind> sourceSettings)
{
    public static RollupFigures Empty { get; } = new(0, new SortedDictionary<string, OrganisationFigures>(StringComparer.Ordinal), new SortedDictionary<string, OrganisationKind>(StringComparer.Ordinal));

    public int Events { get; } = events;

    /// <summary>By caller ODS code (<see cref="DayRollup.NoOrganisation"/> for callers who could not be identified).</summary>
    public IReadOnlyDictionary<string, OrganisationFigures> Organisations { get; } = organisations;

    /// <summary>The kind of setting of each source whose data was returned, as recorded with the access (the latest day's, where they differ).</summary>
    public IReadOnlyDictionary<string, OrganisationKind> SourceSettings { get; } = sourceSettings;

    /// <param name="parts">In day order: where a source's recorded setting changed, the later one is kept.</param>
    public static RollupFigures Union(IReadOnlyList<RollupFigures> parts)
    {
        var settings = new SortedDictionary<string, OrganisationKind>(StringComparer.Ordinal);
        foreach (var part in parts)
        {
            foreach (var (ods, kind) in part.SourceSettings)
            {
                settings[ods] = kind;
            }
        }

        var organisations = new SortedDictionary<string, OrganisationFigures>(StringComparer.Ordinal);
        foreach (var ods in parts.SelectMany(p => p.Organisations.Keys).Distinct(StringComparer.Ordinal))
        {
            organisations[ods] = OrganisationFigures.Union([.. parts.Select(p => p.Organisations.GetValueOrDefault(ods)).OfType<OrganisationFigures>()]);
        }

        return new RollupFigures(parts.Sum(p => p.Events), organisations, settings);
    }
}
