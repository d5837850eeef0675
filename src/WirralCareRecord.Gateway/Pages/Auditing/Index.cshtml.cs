using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using WirralCareRecord.Gateway.Audit;

namespace WirralCareRecord.Gateway.Pages.Auditing;

/// <summary>One period of the story-once figures, for the charts and the table.</summary>
public sealed record StoryOnceRow(string Period, int Retrievals, int DistinctStaff, int DistinctPatients, int SettingsReturned, string MultiSettingShare, int FailedSource, int NotFound, int Refusals, int BreakGlass);

/// <summary>
/// The "tell your story once" dashboard: the same report as <c>/audit/$story-once-report</c>, as charts, a table and
/// a CSV download that works with the page sign-in.
/// </summary>
public sealed class IndexModel(TimeProvider time) : PageModel
{
    private const int MaxDays = 3 * 366;

    [BindProperty(SupportsGet = true)]
    public string? Start { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? End { get; set; }

    [BindProperty(SupportsGet = true)]
    public string By { get; set; } = "day";

    public string? Problem { get; private set; }

    public IReadOnlyList<StoryOnceRow> Rows { get; private set; } = [];

    public StoryOnceRow? Total { get; private set; }

    public async Task OnGetAsync()
    {
        if (Range() is { } range)
        {
            var report = await Run(range);
            Rows = [.. report.Figures.Where(f => f.Scope == FigureScope.All && f.Period.Label != StoryOnceReport.WholeRange).Select(RowOf)];
            Total = RowOf(report.Total);
        }
    }

    public async Task<IActionResult> OnGetCsvAsync()
    {
        if (Range() is not { } range)
        {
            return BadRequest(Problem ?? "");
        }

        var report = await Run(range);
        return File(Encoding.UTF8.GetBytes(StoryOnceOutput.ToCsv(report)), "text/csv; charset=utf-8", $"story-once-{Start}-to-{End}.csv");
    }

    public string CsvUrl => $"/auditing?handler=csv&start={Start}&end={End}&by={By}";

    private ReportGrouping Grouping => By switch
    {
        "week" => ReportGrouping.Week,
        "month" => ReportGrouping.Month,
        _ => ReportGrouping.Day,
    };

    private (DateOnly First, DateOnly Last)? Range()
    {
        var today = AuditDates.Today(time);
        var last = today;
        var first = today.AddDays(-13);
        if ((End is not null && !AuditDates.TryParse(End, out last)) || (Start is not null && !AuditDates.TryParse(Start, out first)))
        {
            Problem = "Enter the dates as YYYY-MM-DD, for example 2025-04-01.";
            return null;
        }

        if (first > last || last.DayNumber - first.DayNumber >= MaxDays)
        {
            Problem = $"The start must be on or before the end, and at most {MaxDays} days before it.";
            return null;
        }

        Start = AuditDates.Text(first);
        End = AuditDates.Text(last);
        return (first, last);
    }

    private Task<StoryOnceReport> Run((DateOnly First, DateOnly Last) range) =>
        HttpContext.RequestServices.GetRequiredService<StoryOnceReports>().RunAsync(range.First, range.Last, Grouping, fromRawLog: false, HttpContext.RequestAborted);

    private static StoryOnceRow RowOf(StoryOnceFigures f) => new(
        f.Period.Label, f.Retrievals, f.DistinctStaff, f.DistinctPatients, f.SettingsReturned,
        f.MultiSettingShare is { } share ? share.ToString("P0", System.Globalization.CultureInfo.InvariantCulture) : "–",
        f.FailedSource, f.NotFound, f.Refusals, f.BreakGlass);
}
