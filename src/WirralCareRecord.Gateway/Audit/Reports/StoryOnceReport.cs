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

/// <summary>The story-once figures of one period and scope: one organisation's, or the union of several.</summary>
internal sealed class StoryOnceFigures(ReportPeriod period, FigureScope scope, string code, OrganisationFigures figures)
{
    public ReportPeriod Period { get; } = period;

    public FigureScope Scope { get; } = scope;

    /// <summary>The ODS code, or the setting's kind, or <c>all</c>.</summary>
    public string Code { get; } = code;

    /// <summary>The kind of setting of the organisation or setting in scope (from the registry); empty for everyone.</summary>
    public string Setting { get; init; } = "";

    public int Retrievals => figures.Retrievals;

    public int MultiSetting => figures.MultiSetting;

    public int FailedSource => figures.FailedSource;

    public int NotFound => figures.NotFound;

    public int Refusals => figures.Refusals;

    public int BreakGlass => figures.BreakGlass;

    public int DistinctStaff => figures.Staff.Count;

    public int DistinctPatients => figures.Patients.Count;

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
        var byPeriod = new RollupFigures[periods.Count];
        Parallel.For(0, periods.Count, new ParallelOptions { CancellationToken = cancellationToken }, i => byPeriod[i] = RollupFigures.Union(read[i]));
        var wholeRange = RollupFigures.Union(byPeriod);

        var cells = new List<StoryOnceFigures>[periods.Count + 1];
        Parallel.For(0, cells.Length, new ParallelOptions { CancellationToken = cancellationToken }, i => cells[i] = i < periods.Count
            ? Cells(periods[i], byPeriod[i], organisations)
            : Cells(whole, wholeRange, organisations));

        return new StoryOnceReport(start, end, by, time.GetUtcNow(), periods, [.. cells.SelectMany(c => c)], wholeRange.SourceSettings);
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
    /// One period's rows: everyone, each organisation and each setting. Every period has a row for everyone, and one for
    /// each organisation with a known staff count, even with no use: a proportion of staff is most telling where it is nought.
    /// </summary>
    private static List<StoryOnceFigures> Cells(ReportPeriod period, RollupFigures figures, RegistrySnapshot organisations)
    {
        var used = figures.Organisations.Where(o => o.Key != DayRollup.NoOrganisation).ToList();
        var codes = organisations.Organisations.Where(o => o.StaffCount is not null).Select(o => o.OdsCode)
            .Concat(used.Select(o => o.Key))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);
        var settings = organisations.Organisations.Where(o => o.StaffCount is not null).Select(o => o.Kind.ToString())
            .Concat(used.Select(o => SettingOf(organisations, o.Key)))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);

        // Numerators of staff proportions: each counted organisation's own distinct staff, added up over the scope.
        int StaffOf(IEnumerable<Organisation> inScope, out int? staffCount)
        {
            var counted = inScope.Where(o => o.StaffCount is not null).ToList();
            staffCount = counted.Count == 0 ? null : counted.Sum(o => o.StaffCount!.Value);
            return counted.Sum(o => figures.Organisations.TryGetValue(o.OdsCode, out var f) ? f.Staff.Count : 0);
        }

        var cells = new List<StoryOnceFigures>();
        var allStaff = StaffOf(organisations.Organisations, out var allCount);
        cells.Add(new StoryOnceFigures(period, FigureScope.All, "all", OrganisationFigures.Union([.. figures.Organisations.Values]))
        {
            StaffCount = allCount,
            StaffOfCountedOrganisations = allStaff,
        });
        foreach (var ods in codes)
        {
            var staff = StaffOf(organisations.Find(ods) is { } organisation ? [organisation] : [], out var count);
            cells.Add(new StoryOnceFigures(period, FigureScope.Organisation, ods, figures.Organisations.GetValueOrDefault(ods) ?? OrganisationFigures.Empty)
            {
                Setting = SettingOf(organisations, ods),
                StaffCount = count,
                StaffOfCountedOrganisations = staff,
            });
        }

        foreach (var setting in settings)
        {
            var staff = StaffOf(organisations.Organisations.Where(o => o.Kind.ToString() == setting), out var count);
            var members = used.Where(o => SettingOf(organisations, o.Key) == setting).Select(o => o.Value).ToList();
            cells.Add(new StoryOnceFigures(period, FigureScope.Setting, setting, OrganisationFigures.Union(members))
            {
                Setting = setting,
                StaffCount = count,
                StaffOfCountedOrganisations = staff,
            });
        }

        return cells;
    }

    private static string SettingOf(RegistrySnapshot organisations, string ods) =>
        organisations.Find(ods)?.Kind.ToString() ?? "Unknown";
}
