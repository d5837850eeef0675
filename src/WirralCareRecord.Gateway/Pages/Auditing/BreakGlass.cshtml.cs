using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using WirralCareRecord.Gateway.Audit;

namespace WirralCareRecord.Gateway.Pages.Auditing;

/// <summary>Every break-glass access in a period (default: the last 30 days), for review.</summary>
public sealed class BreakGlassModel(TimeProvider time) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? From { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? To { get; set; }

    public string? Problem { get; private set; }

    public IReadOnlyList<AuditRow> Results { get; private set; } = [];

    public async Task OnGetAsync()
    {
        var last = AuditDates.Today(time);
        var first = last.AddDays(-AuditQuery.DefaultDays);
        if ((!string.IsNullOrWhiteSpace(To) && !AuditDates.TryParse(To, out last)) || (!string.IsNullOrWhiteSpace(From) && !AuditDates.TryParse(From, out first))
            || first > last || last.DayNumber - first.DayNumber >= AuditQuery.MaxDays)
        {
            Problem = $"Enter dates as YYYY-MM-DD, the first on or before the second and at most {AuditQuery.MaxDays} days apart.";
            return;
        }

        From = AuditDates.Text(first);
        To = AuditDates.Text(last);
        var query = new AuditQuery(
            new DateTimeOffset(first.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero),
            new DateTimeOffset(last.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero),
            null, null, null, null, null, BreakGlass: true, Descending: true, Count: AuditQuery.MaxCount, After: null);
        var page = await HttpContext.RequestServices.GetRequiredService<AuditSearch>().SearchAsync(query, HttpContext.RequestAborted);
        Results = [.. page.Events.Select(AuditRow.From)];
    }
}
