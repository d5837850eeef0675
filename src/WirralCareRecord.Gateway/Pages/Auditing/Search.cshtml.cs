using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Primitives;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Pages.Auditing;

/// <summary>
/// Search the access log by patient, user, organisation and dates: the auditor API's search, as a form. The form is
/// posted, so the patient's NHS number travels in the body and never in an address; the search is itself audited.
/// </summary>
public sealed class SearchModel(TimeProvider time) : PageModel
{
    [BindProperty]
    public string? Patient { get; set; }

    [BindProperty]
    public string? Agent { get; set; }

    [BindProperty]
    public string? Organisation { get; set; }

    [BindProperty]
    public string? From { get; set; }

    [BindProperty]
    public string? To { get; set; }

    public string? Problem { get; private set; }

    public IReadOnlyList<AuditRow>? Results { get; private set; }

    public void OnGet()
    {
    }

    public async Task OnPostAsync()
    {
        var parameters = new Dictionary<string, StringValues>(StringComparer.Ordinal);
        if (!string.IsNullOrWhiteSpace(Patient))
        {
            var check = NhsNumber.Check(Patient);
            if (!check.IsValid)
            {
                Problem = "Patient: " + check.Problem;
                return;
            }

            parameters["patient"] = check.Value;
        }

        if (!string.IsNullOrWhiteSpace(Agent))
        {
            parameters["agent"] = Agent.Trim();
        }

        if (!string.IsNullOrWhiteSpace(Organisation))
        {
            parameters["organisation"] = Organisation.Trim().ToUpperInvariant();
        }

        var dates = new List<string>();
        if (!string.IsNullOrWhiteSpace(From))
        {
            dates.Add("ge" + From.Trim());
        }

        if (!string.IsNullOrWhiteSpace(To))
        {
            dates.Add("le" + To.Trim());
        }

        if (dates.Count > 0)
        {
            parameters["date"] = new StringValues([.. dates]);
        }

        parameters["_count"] = "200";
        try
        {
            var query = AuditQuery.Parse(new QueryCollection(parameters), time.GetUtcNow());
            var page = await HttpContext.RequestServices.GetRequiredService<AuditSearch>().SearchAsync(query, HttpContext.RequestAborted);
            Results = [.. page.Events.Select(AuditRow.From)];
        }
        catch (InvalidRequestException ex)
        {
            Problem = ex.Message;
        }
    }
}
