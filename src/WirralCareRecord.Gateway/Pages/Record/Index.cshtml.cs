using Hl7.Fhir.Model;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Pages.Record;

/// <summary>
/// Find a record by NHS number. The read goes through the same code as <c>$wcr-getrecord</c> (sharing rules, objections,
/// break-glass, corroboration, and the audit written before anything is shown); only the rendering differs. The NHS
/// number travels in a POST body, never in the address, so it cannot reach access logs or browser history.
/// </summary>
public sealed class IndexModel : PageModel
{
    [BindProperty]
    public string? NhsNumber { get; set; }

    [BindProperty]
    public string? BreakGlassReason { get; set; }

    public string? NhsNumberError { get; private set; }

    public string? BreakGlassError { get; private set; }

    /// <summary>Why the record was not shown, as the API would say it.</summary>
    public string? Refusal { get; private set; }

    public IReadOnlyList<string> RefusalDetails { get; private set; } = [];

    /// <summary>The refusal can be overridden by break-glass (an objection, no legitimate relationship).</summary>
    public bool CanBreakGlass { get; private set; }

    public RecordView? Record { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var check = PatientMatching.NhsNumber.Check(NhsNumber);
        if (!check.IsValid)
        {
            NhsNumberError = check.Problem;
            return Page();
        }

        NhsNumber = RecordView.Format(check.Value!);
        if (!string.IsNullOrWhiteSpace(BreakGlassReason) && BreakGlassReason.Trim().Length < BreakGlass.MinimumReasonLength)
        {
            BreakGlassError = $"Say why you need to open this record, in at least {BreakGlass.MinimumReasonLength} characters, so the access can be reviewed.";
            CanBreakGlass = true;
            return Page();
        }

        // The same services the API endpoint binds, so a page read is the API's read, audit and all.
        var services = ActivatorUtilities.CreateInstance<GetRecordEndpoint.Services>(HttpContext.RequestServices);
        var query = GetRecordEndpoint.RecordQuery.Create(check.Value, null, null, BreakGlassReason);
        try
        {
            var result = await GetRecordEndpoint.HandleAsync(HttpContext, services, _ => ValueTask.FromResult(query));
            if (result is FhirResult { Resource: Bundle bundle })
            {
                Record = RecordView.From(bundle, check.Value!);
            }
        }
        catch (GatewayException ex) when (ex is not AuditUnavailableException)
        {
            Response.StatusCode = ex.StatusCode;
            CanBreakGlass = ex.StatusCode == StatusCodes.Status403Forbidden && ex.Message.Contains(BreakGlass.Parameter, StringComparison.Ordinal);
            // The API's how-to-override sentence names a header and a parameter; the page offers a form instead.
            var overrideAt = ex.Message.IndexOf(" In an emergency you may override", StringComparison.Ordinal);
            Refusal = CanBreakGlass && overrideAt > 0 ? ex.Message[..overrideAt] : ex.Message;
            RefusalDetails = [.. ex.ExtraIssues.Select(i => i.Diagnostics ?? i.Details?.Text ?? "").Where(t => t.Length > 0)];
        }
        catch (AuditUnavailableException ex)
        {
            Response.StatusCode = ex.StatusCode;
            Refusal = ex.Message;
        }

        return Page();
    }
}
