using System.Collections.Concurrent;
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

/// <summary>The story-once figures of one period and scope, merged from organisation-days.</summary>
internal sealed class StoryOnceFigures(ReportPeriod period, FigureScope scope, string code)
{
    private readonly Dictionary<string, HashSet<ulong>> _staffByOrganisation = new(StringComparer.Ordinal);
    private readonly HashSet<ulong> _staff = [];
    private readonly HashSet<ulong> _patients = [];
    private readonly HashSet<string> _sourcesReturned = new(StringComparer.Ordinal);

    public ReportPeriod Period { get; } = period;

    public FigureScope Scope { get; } = scope;

    /// <summary>The ODS code, or the setting's kind, or <c>all</c>.</summary>
    public string Code { get; } = code;

    /// <summary>The kind of setting of the organisation or setting in scope (from the registry); empty for everyone.</summary>
    public string Setting { get; set; } = "";

    public int Retrievals { get; private set; }

    public int MultiSetting { get; private set; }

    public int FailedSource { get; private set; }

    public int NotFound { get; private set; }

    public int Refusals { get; private set; }

    public int BreakGlass { get; private set; }

    public int DistinctStaff => _staff.Count;

    public int DistinctPatients => _patients.Count;

    public int SettingsReturned => _sourcesReturned.Count;

    public IReadOnlyCollection<string> SourcesReturned => _sourcesReturned;

    /// <summary>Staff of the organisations in scope whose staff count is known (the denominator), or null when none is.</summary>
    public int? StaffCount { get; private set; }

    /// <summary>Distinct staff retrieving who belong to organisations whose staff count is known (the numerator).</summary>
    public int StaffOfCountedOrganisations { get; private set; }

    public double? StaffProportion => StaffCount is > 0 ? (double)StaffOfCountedOrganisations / StaffCount.Value : null;

    public double? MultiSettingShare => Retrievals > 0 ? (double)MultiSetting / Retrievals : null;

    public void Add(string ods, OrganisationDay day)
    {
        Retrievals += day.Retrievals;
        MultiSetting += day.MultiSetting;
        FailedSource += day.FailedSource;
        NotFound += day.NotFound;
        Refusals += day.Refusals;
        BreakGlass += day.BreakGlass;
        _staff.UnionWith(day.Staff);
        _patients.UnionWith(day.Patients);
        _sourcesReturned.UnionWith(day.SourcesReturned);
        if (!_staffByOrganisation.TryGetValue(ods, out var staff))
        {
            _staffByOrganisation[ods] = staff = [];
        }

        staff.UnionWith(day.Staff);
    }

    /// <summary>Sets the denominator from the registry's staff counts of the organisations in scope.</summary>
    public void Count(IEnumerable<Organisation> organisationsInScope)
    {
        var counted = organisationsInScope.Where(o => o.StaffCount is not null).ToList();
        StaffCount = counted.Count == 0 ? null : counted.Sum(o => o.StaffCount!.Value);
        StaffOfCountedOrganisations = counted.Sum(o => _staffByOrganisation.TryGetValue(o.OdsCode, out var staff) ? staff.Count : 0);
    }
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

/// <summary>Runs the story-once report over daily roll-ups.</summary>
internal sealed class StoryOnceReports(AuditRollups rollups, IOrganisationRegistry registry, TimeProvider time)
{
    /// <summary>How many days are read at once: roll-ups are small, and storage answers faster in parallel.</summary>
    private const int Parallelism = 16;

    public async Task<StoryOnceReport> RunAsync(DateOnly start, DateOnly end, ReportGrouping by, bool fromRawLog, CancellationToken cancellationToken)
    {
        var days = new ConcurrentDictionary<DateOnly, DayRollup>();
        var range = Enumerable.Range(0, end.DayNumber - start.DayNumber + 1).Select(start.AddDays);
        await Parallel.ForEachAsync(
            range,
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (day, ct) => days[day] = await rollups.GetAsync(day, fromRawLog, ct));

        var organisations = registry.Current;
        var periods = ReportPeriod.Divide(start, end, by);
        var whole = new ReportPeriod(StoryOnceReport.WholeRange, start, end);
        var figures = new Dictionary<(string Period, FigureScope Scope, string Code), StoryOnceFigures>();
        StoryOnceFigures Cell(ReportPeriod period, FigureScope scope, string code)
        {
            if (!figures.TryGetValue((period.Label, scope, code), out var cell))
            {
                figures[(period.Label, scope, code)] = cell = new StoryOnceFigures(period, scope, code);
            }

            return cell;
        }

        // Every period has a row for everyone, and one for each organisation with a known staff count, even with no use:
        // a proportion of staff is most telling where it is nought.
        foreach (var period in periods.Append(whole))
        {
            Cell(period, FigureScope.All, "all");
            foreach (var organisation in organisations.Organisations.Where(o => o.StaffCount is not null))
            {
                Cell(period, FigureScope.Organisation, organisation.OdsCode);
                Cell(period, FigureScope.Setting, organisation.Kind.ToString());
            }
        }

        var sourceSettings = new SortedDictionary<string, OrganisationKind>(StringComparer.Ordinal);
        foreach (var period in periods)
        {
            for (var day = period.Start; day <= period.End; day = day.AddDays(1))
            {
                var rollup = days[day];
                foreach (var (ods, setting) in rollup.SourceSettings)
                {
                    sourceSettings[ods] = setting;
                }

                foreach (var (ods, figuresOfDay) in rollup.Organisations)
                {
                    foreach (var target in new[] { period, whole })
                    {
                        Cell(target, FigureScope.All, "all").Add(ods, figuresOfDay);
                        if (ods != DayRollup.NoOrganisation)
                        {
                            Cell(target, FigureScope.Organisation, ods).Add(ods, figuresOfDay);
                            Cell(target, FigureScope.Setting, SettingOf(organisations, ods)).Add(ods, figuresOfDay);
                        }
                    }
                }
            }
        }

        foreach (var cell in figures.Values)
        {
            cell.Setting = cell.Scope switch
            {
                FigureScope.Organisation => SettingOf(organisations, cell.Code),
                FigureScope.Setting => cell.Code,
                _ => "",
            };
            cell.Count(cell.Scope switch
            {
                FigureScope.All => organisations.Organisations,
                FigureScope.Organisation => organisations.Find(cell.Code) is { } organisation ? [organisation] : [],
                _ => organisations.Organisations.Where(o => o.Kind.ToString() == cell.Code),
            });
        }

        var order = periods.Append(whole).Select((p, i) => (p.Label, i)).ToDictionary(p => p.Label, p => p.i, StringComparer.Ordinal);
        return new StoryOnceReport(
            start,
            end,
            by,
            time.GetUtcNow(),
            periods,
            [.. figures.Values.OrderBy(f => order[f.Period.Label]).ThenBy(f => f.Scope).ThenBy(f => f.Code, StringComparer.Ordinal)],
            sourceSettings);
    }

    private static string SettingOf(RegistrySnapshot organisations, string ods) =>
        organisations.Find(ods)?.Kind.ToString() ?? "Unknown";
}
