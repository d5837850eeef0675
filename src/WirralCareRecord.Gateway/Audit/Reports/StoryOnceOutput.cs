using System.Globalization;
using System.Text;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// Writes the story-once report as a FHIR MeasureReport (type summary) of <c>conformance/Measure-wcr-story-once.json</c>,
/// or as CSV. Both list the same measures, in the Measure's order.
/// </summary>
internal static class StoryOnceOutput
{
    public const string MeasureUrl = "https://fhir.wirralcarerecord.nhs.uk/Measure/wcr-story-once";
    private const string PopulationSystem = "http://terminology.hl7.org/CodeSystem/measure-population";

    /// <summary>One group of the Measure: a count, or a proportion with its numerator and denominator.</summary>
    private sealed record MeasureGroup(string Code, string Display, Func<StoryOnceFigures, int> Numerator, Func<StoryOnceFigures, int?>? Denominator = null);

    private static readonly MeasureGroup[] Groups =
    [
        new("retrievals", "Record retrievals by NHS number", f => f.Retrievals),
        new("distinct-staff", "Distinct staff retrieving", f => f.DistinctStaff),
        new("staff-proportion", "Proportion of staff retrieving", f => f.StaffOfCountedOrganisations, f => f.StaffCount),
        new("distinct-patients", "Distinct patients whose records were retrieved", f => f.DistinctPatients),
        new("settings-returned", "Settings whose data was returned", f => f.SettingsReturned),
        new("multi-setting", "Retrievals drawing on two or more settings", f => f.MultiSetting, f => f.Retrievals),
        new("local-system", "Retrievals made from the local system", f => f.FromLocalSystem, f => f.Retrievals),
        new("context-launch", "Retrievals opened by context launch", f => f.ContextLaunch, f => f.Retrievals),
        new("failed-source", "Record reads with a failed or timed-out source", f => f.FailedSource),
        new("not-found", "NHS numbers not found", f => f.NotFound),
        new("refusals", "Refused record reads", f => f.Refusals),
        new("break-glass", "Break-glass accesses", f => f.BreakGlass),
    ];

    public static MeasureReport ToMeasureReport(StoryOnceReport report)
    {
        var measureReport = new MeasureReport
        {
            Id = Guid.NewGuid().ToString(),
            Status = MeasureReport.MeasureReportStatus.Complete,
            Type = MeasureReport.MeasureReportType.Summary,
            Measure = MeasureUrl,
            Date = report.Generated.ToString("yyyy-MM-ddTHH:mm:ssK", CultureInfo.InvariantCulture),
            Reporter = new ResourceReference { Display = "Wirral Care Record gateway" },
            Period = new Period(new FhirDateTime(Date(report.Start)), new FhirDateTime(Date(report.End))),
        };

        var periods = report.Figures.Where(f => f.Period.Label != StoryOnceReport.WholeRange).ToList();
        var whole = report.Figures.Where(f => f.Period.Label == StoryOnceReport.WholeRange).ToList();
        foreach (var group in Groups)
        {
            var reportGroup = new MeasureReport.GroupComponent
            {
                Code = new CodeableConcept(MeasureUrl, group.Code, group.Display, group.Display),
                Population = Populations(group, report.Total),
                MeasureScore = Score(group, report.Total),
            };
            reportGroup.Stratifier.Add(Stratifier("period", periods.Where(f => f.Scope == FigureScope.All), group, f => [Component("period", PeriodValue(f.Period))]));
            reportGroup.Stratifier.Add(Stratifier("organisation", whole.Where(f => f.Scope == FigureScope.Organisation), group, f => [Component("organisation", OrganisationValue(f.Code))]));
            reportGroup.Stratifier.Add(Stratifier("setting", whole.Where(f => f.Scope == FigureScope.Setting), group, f => [Component("setting", new CodeableConcept { Text = f.Code })]));
            reportGroup.Stratifier.Add(Stratifier("period-organisation", periods.Where(f => f.Scope == FigureScope.Organisation), group, f =>
                [Component("period", PeriodValue(f.Period)), Component("organisation", OrganisationValue(f.Code))]));
            reportGroup.Stratifier.Add(Stratifier("period-setting", periods.Where(f => f.Scope == FigureScope.Setting), group, f =>
                [Component("period", PeriodValue(f.Period)), Component("setting", new CodeableConcept { Text = f.Code })]));
            if (group.Code == "settings-returned")
            {
                reportGroup.Stratifier.Add(SourceSettings(report));
            }

            measureReport.Group.Add(reportGroup);
        }

        return measureReport;
    }

    /// <summary>
    /// The report as CSV per RFC 4180 (CRLF line ends; a field with a comma, quote or line break is quoted, quotes
    /// doubled). Every text field is also neutralised for spreadsheets: one starting with <c>=</c>, <c>+</c>, <c>-</c>,
    /// <c>@</c>, a tab or a carriage return is prefixed with <c>'</c>, so a value from a token or the log is never run as a formula (OWASP CSV injection).
    /// </summary>
    public static string ToCsv(StoryOnceReport report)
    {
        var csv = new StringBuilder();
        csv.Append("period,start,end,scope,code,setting,")
            .Append("retrievals,distinct_staff,staff_retrieving_counted,staff_count,staff_proportion,distinct_patients,")
            .Append("settings_returned,settings_returned_by_kind,multi_setting_retrievals,multi_setting_share,")
            .Append("failed_source_reads,not_found,refusals,break_glass,")
            // Added later: at the end, so readers of the earlier columns by position are unaffected.
            .Append("local_system_retrievals,local_system_share,context_launch_retrievals\r\n");
        foreach (var f in report.Figures)
        {
            csv.AppendJoin(',', new[] {
                f.Period.Label,
                Date(f.Period.Start),
                Date(f.Period.End),
                f.Scope.ToString().ToLowerInvariant(),
                f.Code,
                f.Setting,
                Number(f.Retrievals),
                Number(f.DistinctStaff),
                Number(f.StaffOfCountedOrganisations),
                f.StaffCount is { } staff ? Number(staff) : "",
                Ratio(f.StaffProportion),
                Number(f.DistinctPatients),
                Number(f.SettingsReturned),
                string.Join(';', report.SettingsByKind(f).Select(k => $"{k.Setting}:{Number(k.Organisations)}")),
                Number(f.MultiSetting),
                Ratio(f.MultiSettingShare),
                Number(f.FailedSource),
                Number(f.NotFound),
                Number(f.Refusals),
                Number(f.BreakGlass),
                Number(f.FromLocalSystem),
                Ratio(f.LocalSystemShare),
                Number(f.ContextLaunch),
            }.Select(CsvField));
            csv.Append("\r\n");
        }

        return csv.ToString();
    }

    /// <summary>One CSV field: neutralised if it could start a formula, then quoted if RFC 4180 needs it.</summary>
    internal static string CsvField(string? value)
    {
        var text = value ?? "";
        if (text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            text = "'" + text;
        }

        return text.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
    }

    private static List<MeasureReport.PopulationComponent> Populations(MeasureGroup group, StoryOnceFigures figures)
    {
        if (group.Denominator is null)
        {
            return [Population("initial-population", group.Numerator(figures))];
        }

        var populations = new List<MeasureReport.PopulationComponent> { Population("numerator", group.Numerator(figures)) };
        if (group.Denominator(figures) is { } denominator)
        {
            populations.Add(Population("denominator", denominator));
        }

        return populations;
    }

    private static Quantity? Score(MeasureGroup group, StoryOnceFigures figures) =>
        group.Denominator?.Invoke(figures) is { } denominator && denominator > 0
            ? new Quantity { Value = Math.Round((decimal)group.Numerator(figures) / denominator, 4), Unit = "1" }
            : null;

    private static MeasureReport.PopulationComponent Population(string code, int count) => new()
    {
        Code = new CodeableConcept(PopulationSystem, code),
        Count = count,
    };

    private static MeasureReport.StratifierComponent Stratifier(
        string code,
        IEnumerable<StoryOnceFigures> figures,
        MeasureGroup group,
        Func<StoryOnceFigures, List<MeasureReport.ComponentComponent>> components)
    {
        var stratifier = new MeasureReport.StratifierComponent { Code = [new CodeableConcept { Text = code }] };
        foreach (var f in figures)
        {
            var parts = components(f);
            stratifier.Stratum.Add(new MeasureReport.StratifierGroupComponent
            {
                // One dimension goes in value; two go in components, as R4 asks for stratifiers with several components.
                Value = parts.Count == 1 ? parts[0].Value : null,
                Component = parts.Count == 1 ? [] : parts,
                Population = [.. Populations(group, f).Select(p => new MeasureReport.StratifierGroupPopulationComponent { Code = p.Code, Count = p.Count })],
                MeasureScore = Score(group, f),
            });
        }

        return stratifier;
    }

    private static MeasureReport.StratifierComponent SourceSettings(StoryOnceReport report)
    {
        var stratifier = new MeasureReport.StratifierComponent { Code = [new CodeableConcept { Text = "source-setting" }] };
        foreach (var (setting, organisations) in report.SettingsByKind(report.Total))
        {
            stratifier.Stratum.Add(new MeasureReport.StratifierGroupComponent
            {
                Value = new CodeableConcept { Text = setting },
                Population = [new MeasureReport.StratifierGroupPopulationComponent { Code = new CodeableConcept(PopulationSystem, "initial-population"), Count = organisations }],
            });
        }

        return stratifier;
    }

    private static MeasureReport.ComponentComponent Component(string code, CodeableConcept value) =>
        new() { Code = new CodeableConcept { Text = code }, Value = value };

    /// <summary>The period's label (<c>2026-11-23</c>, <c>2026-W47</c>, <c>2026-11</c>), which says its days.</summary>
    private static CodeableConcept PeriodValue(ReportPeriod period) => new() { Text = period.Label };

    private static CodeableConcept OrganisationValue(string ods) => new(OdsCode.System, ods) { Text = ods };

    private static string Date(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Ratio(double? value) => value is { } v ? v.ToString("0.####", CultureInfo.InvariantCulture) : "";
}
