using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using WirralCareRecord.Gateway.Audit;

namespace WirralCareRecord.Gateway.Pages.Auditing;

/// <summary>Checks one day's hash chains, as <c>/audit/$verify</c> does, and says where the log was altered if it was.</summary>
public sealed class VerifyModel(TimeProvider time) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Date { get; set; }

    public string? Problem { get; private set; }

    public string? Summary { get; private set; }

    public IReadOnlyList<string> Breaks { get; private set; } = [];

    /// <summary>Blobs ending in an unfinished write: not breaks, but worth an auditor's notice.</summary>
    public IReadOnlyList<string> TornTails { get; private set; } = [];

    public async Task OnGetAsync()
    {
        var day = AuditDates.Today(time);
        if (!string.IsNullOrWhiteSpace(Date) && !AuditDates.TryParse(Date, out day))
        {
            Problem = "Enter the day as YYYY-MM-DD.";
            return;
        }

        Date = AuditDates.Text(day);
        var result = await HttpContext.RequestServices.GetRequiredService<AuditChainVerifier>().VerifyAsync(day, HttpContext.RequestAborted);
        Summary = result.Breaks.Count == 0
            ? $"{Date}: {result.Blobs} blob(s), {result.Events} event(s); every hash chain is intact."
            : $"{Date}: {result.Blobs} blob(s), {result.Events} event(s); {result.Breaks.Count} blob(s) fail verification: the log has been altered or damaged there.";
        Breaks = [.. result.Breaks.Select(b => $"{b.Blob}, line {b.Line}: {b.Problem}")];
        TornTails = [.. result.TornTails.Select(t => $"{t.Blob}, line {t.Line}: the last line is an unfinished write, as left by an instance stopped in the middle of an append; the lines before it verify.")];
    }
}
