using System.Globalization;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>How the report's period is divided.</summary>
internal enum ReportGrouping
{
    Day,
    Week,
    Month,
}

/// <summary>One period of the report, UTC days inclusive. Weeks are ISO weeks (Monday to Sunday), cut to the report's range.</summary>
internal sealed record ReportPeriod(string Label, DateOnly Start, DateOnly End)
{
    public static IReadOnlyList<ReportPeriod> Divide(DateOnly start, DateOnly end, ReportGrouping by)
    {
        var periods = new List<ReportPeriod>();
        var day = start;
        while (day <= end)
        {
            var (label, last) = by switch
            {
                ReportGrouping.Day => (day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), day),
                ReportGrouping.Week => (
                    string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(day.ToDateTime(TimeOnly.MinValue))}-W{ISOWeek.GetWeekOfYear(day.ToDateTime(TimeOnly.MinValue)):00}"),
                    day.AddDays((7 - ((int)day.DayOfWeek + 6) % 7) - 1)),
                _ => (day.ToString("yyyy-MM", CultureInfo.InvariantCulture), new DateOnly(day.Year, day.Month, DateTime.DaysInMonth(day.Year, day.Month))),
            };
            last = last > end ? end : last;
            periods.Add(new ReportPeriod(label, day, last));
            day = last.AddDays(1);
        }

        return periods;
    }
}

/// <summary>Whose figures a row holds: everyone, one caller organisation, or every organisation of one kind of setting.</summary>
internal enum FigureScope
{
    All,
    Organisation,
    Setting,
}

/// <summary>What is reported of one or more organisations' figures taken together: the counts, and the sizes of the sets' union.</summary>
internal sealed record FigureTotals(
    int Retrievals,
    int MultiSetting,
    int FailedSource,
    int NotFound,
    int Refusals,
    int BreakGlass,
    int DistinctStaff,
    int DistinctPatients,
    IReadOnlySet<string> SourcesReturned)
{
    public int FromLocalSystem { get; init; }

    public int ContextLaunch { get; init; }

    public static FigureTotals Of(IReadOnlyList<OrganisationFigures> parts)
    {
        var sources = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var part in parts)
        {
            sources.UnionWith(part.SourcesReturned);
        }

        return new FigureTotals(
            parts.Sum(p => p.Retrievals),
            parts.Sum(p => p.MultiSetting),
            parts.Sum(p => p.FailedSource),
            parts.Sum(p => p.NotFound),
            parts.Sum(p => p.Refusals),
            parts.Sum(p => p.BreakGlass),
            PseudonymSet.CountUnion([.. parts.Select(p => p.Staff)]),
            PseudonymSet.CountUnion([.. parts.Select(p => p.Patients)]),
            sources)
        {
            FromLocalSystem = parts.Sum(p => p.FromLocalSystem),
            ContextLaunch = parts.Sum(p => p.ContextLaunch),
        };
    }
}

/// <summary>The story-once figures of one period and scope: one organisation's, or the union of several.</summary>
internal sealed class StoryOnceFigures(ReportPeriod period, FigureScope scope, string code, FigureTotals figures)
{
    public ReportPeriod Period { get; } = period;

    public FigureScope Scope { get; } = scope;

    /// <summary>The ODS code, or the setting's kind, or <c>all</c>.</summary>
    public string Code { get; } = code;

    /// <summary>The kind of setting of the organisation or setting in scope (from the registry); empty for everyone.</summary>
    public string Setting { get; init; } = "";

    public int Retrievals => figures.Retrievals;

    public int MultiSetting => figures.MultiSetting;

    public int FromLocalSystem => figures.FromLocalSystem;

    public int ContextLaunch => figures.ContextLaunch;

    public double? LocalSystemShare => Retrievals > 0 ? (double)FromLocalSystem / Retrievals : null;

    public int FailedSource => figures.FailedSource;

    public int NotFound => figures.NotFound;

    public int Refusals => figures.Refusals;

    public int BreakGlass => figures.BreakGlass;

    public int DistinctStaff => figures.DistinctStaff;

    public int DistinctPatients => figures.DistinctPatients;

    public int SettingsReturned => figures.SourcesReturned.Count;

    public IReadOnlyCollection<string> SourcesReturned => figures.SourcesReturned;

    /// <summary>Staff of the organisations in scope whose staff count is known (the denominator), or null when none is.</summary>
    public int? StaffCount { get; init; }

    /// <summary>Distinct staff retrieving who belong to organisations whose staff count is known (the numerator).</summary>
    public int StaffOfCountedOrganisations { get; init; }

    public double? StaffProportion => StaffCount is > 0 ? (double)StaffOfCountedOrganisations / StaffCount.Value : null;

    public double? MultiSettingShare => Retrievals > 0 ? (double)MultiSetting / Retrievals : null;
}

/// <summary>The report: figures for every period (and the whole range) by everyone, by organisation and by setting.</summary>
internal sealed record StoryOnceReport(
    DateOnly Start,
    DateOnly End,
    ReportGrouping By,
    DateTimeOffset Generated,
    IReadOnlyList<ReportPeriod> Periods,
    IReadOnlyList<StoryOnceFigures> Figures,
    IReadOnlyDictionary<string, OrganisationKind> SourceSettings)
{
    /// <summary>The label of the row for the whole range.</summary>
    public const string WholeRange = "total";

    public StoryOnceFigures Total => Figures.Single(f => f.Period.Label == WholeRange && f.Scope == FigureScope.All);

    /// <summary>Settings whose data was returned in <paramref name="figures"/>, counted by their kind.</summary>
    public IReadOnlyList<(string Setting, int Organisations)> SettingsByKind(StoryOnceFigures figures) =>
        [.. figures.SourcesReturned
            .GroupBy(ods => SourceSettings.TryGetValue(ods, out var kind) ? kind.ToString() : "Unknown", StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Count()))];
}

/// <summary>
/// Runs the story-once report over roll-ups: a sealed month's own roll-up where a period is that whole month, otherwise
/// the days'. Each period's figures per organisation are the union of its roll-ups'; everyone's, a setting's and the
/// whole range's are unions of those, so every distinct count is exact.
/// </summary>
internal sealed class StoryOnceReports(AuditRollups rollups, IOrganisationRegistry registry, TimeProvider time)
{
    /// <summary>How many roll-ups are read at once: storage answers faster in parallel.</summary>
    private const int Parallelism = 16;

    public async Task<StoryOnceReport> RunAsync(DateOnly start, DateOnly end, ReportGrouping by, bool fromRawLog, CancellationToken cancellationToken)
    {
        var periods = ReportPeriod.Divide(start, end, by);
        var whole = new ReportPeriod(StoryOnceReport.WholeRange, start, end);
        var parts = periods.Select(p => Parts(p, by, fromRawLog).ToArray()).ToArray();
        var read = parts.Select(p => new RollupFigures[p.Length]).ToArray();
        await Parallel.ForEachAsync(
            parts.SelectMany((p, i) => p.Select((part, j) => (i, j, part))),
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (item, ct) => read[item.i][item.j] = item.part.IsMonth
                ? await rollups.GetMonthAsync(item.part.Start, ct)
                : (await rollups.GetAsync(item.part.Start, fromRawLog, ct)).Figures);

        var organisations = registry.Current;
        var sourceSettings = new SortedDictionary<string, OrganisationKind>(StringComparer.Ordinal);
        foreach (var (ods, kind) in read.SelectMany(p => p).SelectMany(r => r.SourceSettings))
        {
            sourceSettings[ods] = kind;
        }

        // Every row is counted straight from the roll-ups it covers (a month's, or days'): no union is built on the
        // way, so nothing large is allocated, and each row is one job for the cores.
        static Dictionary<string, IReadOnlyList<OrganisationFigures>> ByOrganisation(IEnumerable<RollupFigures> parts) =>
            parts.SelectMany(p => p.Organisations)
                .GroupBy(o => o.Key, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => (IReadOnlyList<OrganisationFigures>)[.. g.Select(o => o.Value)], StringComparer.Ordinal);
        // Except that a period read from days is united once per organisation first: the whole range's rows then count
        // one part per organisation per period, not one per day.
        var united = new RollupFigures[periods.Count][];
        Parallel.For(0, periods.Count, new ParallelOptions { CancellationToken = cancellationToken }, i => united[i] = read[i].Length == 1 ? read[i] : [RollupFigures.Union(read[i])]);
        var cells = periods.SelectMany((p, i) => Cells(p, ByOrganisation(united[i]), organisations))
            .Concat(Cells(whole, ByOrganisation(united.SelectMany(p => p)), organisations))
            .ToList();
        var totals = new FigureTotals[cells.Count];
        // Largest first, so the cores finish together.
        var order = Enumerable.Range(0, cells.Count).OrderByDescending(i => cells[i].Parts.Sum(p => (long)p.Patients.Count + p.Staff.Count)).ToList();
        Parallel.ForEach(order, new ParallelOptions { CancellationToken = cancellationToken }, i => totals[i] = FigureTotals.Of(cells[i].Parts));
        var byOrganisation = cells.Select((c, i) => (c, i)).Where(x => x.c.Scope == FigureScope.Organisation)
            .ToDictionary(x => (x.c.Period.Label, x.c.Code), x => totals[x.i].DistinctStaff);

        var figures = new List<StoryOnceFigures>(cells.Count);
        for (var i = 0; i < cells.Count; i++)
        {
            var (period, scope, code, _) = cells[i];
            // Numerators of staff proportions: each counted organisation's own distinct staff, added up over the scope.
            var counted = scope switch
            {
                FigureScope.All => organisations.Organisations,
                FigureScope.Organisation => organisations.Find(code) is { } organisation ? [organisation] : [],
                _ => organisations.Organisations.Where(o => o.Kind.ToString() == code),
            };
            counted = [.. counted.Where(o => o.StaffCount is not null)];
            figures.Add(new StoryOnceFigures(period, scope, code, totals[i])
            {
                Setting = scope switch
                {
                    FigureScope.Organisation => SettingOf(organisations, code),
                    FigureScope.Setting => code,
                    _ => "",
                },
                StaffCount = counted.Any() ? counted.Sum(o => o.StaffCount!.Value) : null,
                StaffOfCountedOrganisations = counted.Sum(o => byOrganisation.GetValueOrDefault((period.Label, o.OdsCode))),
            });
        }

        return new StoryOnceReport(start, end, by, time.GetUtcNow(), periods, figures, sourceSettings);
    }

    /// <summary>What a period is read from: its month's roll-up when it is a whole sealed month, else each of its days.</summary>
    private IEnumerable<(DateOnly Start, bool IsMonth)> Parts(ReportPeriod period, ReportGrouping by, bool fromRawLog)
    {
        var month = MonthRollup.MonthOf(period.Start);
        if (by == ReportGrouping.Month && !fromRawLog && period.Start == month && period.End == MonthRollup.LastDay(month) && rollups.IsMonthSealed(month))
        {
            return [(month, true)];
        }

        return Enumerable.Range(0, period.End.DayNumber - period.Start.DayNumber + 1).Select(d => (period.Start.AddDays(d), false));
    }

    /// <summary>
    /// One period's rows, in the report's order (everyone, then organisations, then settings, each by code), with the
    /// figures each unites. Every period has a row for everyone, and one for each organisation with a known staff count,
    /// even with no use: a proportion of staff is most telling where it is nought.
    /// </summary>
    private static IEnumerable<(ReportPeriod Period, FigureScope Scope, string Code, IReadOnlyList<OrganisationFigures> Parts)> Cells(
        ReportPeriod period,
        Dictionary<string, IReadOnlyList<OrganisationFigures>> parts,
        RegistrySnapshot organisations)
    {
        var used = parts.Where(o => o.Key != DayRollup.NoOrganisation).ToList();
        var codes = organisations.Organisations.Where(o => o.StaffCount is not null).Select(o => o.OdsCode)
            .Concat(used.Select(o => o.Key))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);
        var settings = organisations.Organisations.Where(o => o.StaffCount is not null).Select(o => o.Kind.ToString())
            .Concat(used.Select(o => SettingOf(organisations, o.Key)))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);

        yield return (period, FigureScope.All, "all", [.. parts.Values.SelectMany(p => p)]);
        foreach (var ods in codes)
        {
            yield return (period, FigureScope.Organisation, ods, parts.GetValueOrDefault(ods) ?? []);
        }

        foreach (var setting in settings)
        {
            yield return (period, FigureScope.Setting, setting, [.. used.Where(o => SettingOf(organisations, o.Key) == setting).SelectMany(o => o.Value)]);
        }
    }

    private static string SettingOf(RegistrySnapshot organisations, string ods) =>
        organisations.Find(ods)?.Kind.ToString() ?? "Unknown";
}
