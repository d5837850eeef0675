using Hl7.Fhir.Model;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Launch;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Pages.Record;

/// <summary>
/// Find a record by NHS number, or open the one a context launch named. The read goes through the same code as
/// <c>$wcr-getrecord</c> (sharing rules, objections, break-glass, corroboration, and the audit written before anything is
/// shown); only the rendering differs. The NHS number travels in a POST body, or sealed in the launch's link, never in
/// the address, so it cannot reach access logs or browser history.
/// <para>
/// A read is streamed (issue 19): the handler only checks the request; the layout runs the read (the page leaves it there)
/// while the page is being written, sends the head of the page and each source's progress as it happens, and then the
/// record. Nothing about the patient is written before the read's audit has been, so a failed audit still shows nothing.
/// Once the first progress is sent the status is 200: a refusal after that is said on the page.
/// </para>
/// </summary>
public sealed class IndexModel(IDataProtectionProvider protection, IOrganisationRegistry registry, TimeProvider time) : PageModel
{
    [BindProperty]
    public string? NhsNumber { get; set; }

    [BindProperty]
    public string? BreakGlassReason { get; set; }

    public string? NhsNumberError { get; private set; }

    public string? BreakGlassError { get; private set; }

    /// <summary>Why the record was not shown, as the API would say it.</summary>
    public string? Refusal { get; private set; }

    /// <summary>A heading for the refusal, where the reason has a clear name (a failed corroboration on a launch).</summary>
    public string? RefusalTitle { get; private set; }

    public IReadOnlyList<string> RefusalDetails { get; private set; } = [];

    /// <summary>The refusal can be overridden by break-glass (an objection, no legitimate relationship).</summary>
    public bool CanBreakGlass { get; private set; }

    public RecordView? Record { get; private set; }

    /// <summary>When the record was opened by a context launch: the record system it came from.</summary>
    public string? LaunchedFrom { get; private set; }

    /// <summary>The read the page will make as it renders; null when it shows the form, or a refusal made before any read.</summary>
    internal GetRecordEndpoint.RecordQuery? PendingRead { get; private set; }

    public DateOnly Today => DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);

    public async Task<IActionResult> OnGetAsync([FromQuery(Name = LaunchContext.Parameter)] string? launch)
    {
        if (launch is null)
        {
            return Page();
        }

        var caller = PageCaller.Of(HttpContext);
        var context = LaunchContext.Open(protection, launch);
        if (context is null || caller is null || context.UserId != caller.UserId)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            RefusalTitle = "This link has expired";
            Refusal = "Links from a context launch last a short time and only for the person who opened them. Open the Wirral Care Record again from the patient's record in your system.";
            return Page();
        }

        LaunchedFrom = context.RecordSystemName;
        NhsNumber = RecordView.Format(context.NhsNumber);
        return Stream(GetRecordEndpoint.RecordQuery.Create(context.NhsNumber, context.BirthDate, context.FamilyName, null));
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

        return Stream(GetRecordEndpoint.RecordQuery.Create(check.Value, null, null, BreakGlassReason));
    }

    /// <summary>Opens one letter of a record just shown: read again from its source, with the same checks and audit as a single-source read.</summary>
    public async Task<IActionResult> OnGetLetterAsync(string? letter)
    {
        var letters = HttpContext.RequestServices.GetRequiredService<LetterReader>();
        var caller = PageCaller.Of(HttpContext);
        if (caller is null || LetterLink.Open(protection, letter) is not { } link)
        {
            return new ResultAction(Results.Text("This letter link has expired: open the record again.", "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest));
        }

        return new ResultAction(await letters.ReadAsync(HttpContext, caller, link));
    }

    /// <summary>The link that opens a letter copy, sealed for this user.</summary>
    public string LetterHref(LetterCopy copy) =>
        "/record?handler=letter&letter=" + Uri.EscapeDataString(new LetterLink(
            Record!.NhsDigits, copy.OdsCode, copy.DocumentReferenceId, copy.PatientId, PageCaller.Of(HttpContext)!.UserId, string.IsNullOrWhiteSpace(BreakGlassReason) ? null : BreakGlassReason.Trim()).Seal(protection));

    private PageResult Stream(GetRecordEndpoint.RecordQuery query)
    {
        // The page's forms (find another record, break-glass) carry an antiforgery token, whose cookie is a header: made
        // now, before the first progress starts the response, or a first visit by context launch could not set it.
        HttpContext.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(HttpContext);
        PendingRead = query;
        return Page();
    }

    /// <summary>Makes <see cref="PendingRead"/>, telling <paramref name="progress"/> how each source goes; called by the page as it renders.</summary>
    internal async Task ReadAsync(IReadProgress progress)
    {
        var query = PendingRead ?? throw new InvalidOperationException("There is no read to make.");
        // The same services the API endpoint binds, so a page read is the API's read, audit and all.
        var services = ActivatorUtilities.CreateInstance<GetRecordEndpoint.Services>(HttpContext.RequestServices);
        try
        {
            var result = await GetRecordEndpoint.HandleAsync(HttpContext, services, _ => ValueTask.FromResult(query), progress);
            if (result is RecordAnswer answer)
            {
                using (answer)
                {
                    var organisations = registry.Current;
                    Record = RecordView.From(answer.ReadBundle(), query.NhsNumber!, ods => organisations.Find(ods)?.Kind);
                }
            }
        }
        catch (GatewayException ex) when (ex is not AuditUnavailableException)
        {
            SetStatus(ex.StatusCode);
            CanBreakGlass = ex.StatusCode == StatusCodes.Status403Forbidden && ex.Message.Contains(BreakGlass.Parameter, StringComparison.Ordinal);
            // The API's how-to-override sentence names a header and a parameter; the page offers a form instead.
            var overrideAt = ex.Message.IndexOf(" In an emergency you may override", StringComparison.Ordinal);
            Refusal = CanBreakGlass && overrideAt > 0 ? ex.Message[..overrideAt] : ex.Message;
            RefusalDetails = [.. ex.ExtraIssues.Select(i => i.Diagnostics ?? i.Details?.Text ?? "").Where(t => t.Length > 0)];
            if (LaunchedFrom is not null && ex.StatusCode == StatusCodes.Status404NotFound && ex.ExtraIssues.Any(i => i.Code == OperationOutcome.IssueType.Conflict))
            {
                RefusalTitle = "The record could not be confirmed as this patient's";
                Refusal = $"Sources hold this NHS number, but with a different date of birth or name from {LaunchedFrom}'s record, so nothing is shown. Check the patient's details in your system (and with the Personal Demographics Service) before relying on any shared record.";
            }
        }
        catch (AuditUnavailableException ex)
        {
            SetStatus(ex.StatusCode);
            Refusal = ex.Message;
        }
    }

    /// <summary>A refusal made before any progress was sent keeps its own status; after that the page has already begun as a 200.</summary>
    private void SetStatus(int status)
    {
        if (!Response.HasStarted)
        {
            Response.StatusCode = status;
        }
    }
}
