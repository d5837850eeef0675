using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Storage;
using WirralCareRecord.Gateway.Validation;

namespace WirralCareRecord.Gateway.Pages.Onboarding;

/// <summary>
/// One organisation: its agreements (with the signed document), data quality, flow tests, history, and a form per
/// lifecycle move it may make. Changes go through the admin API's own handlers, so they are checked, audited and kept in the history alike.
/// </summary>
public sealed class OrganisationModel(IOrganisationRegistry registry) : PageModel
{
    public Organisation Organisation { get; private set; } = null!;

    public IReadOnlyList<SharingAgreement> Agreements { get; private set; } = [];

    public IReadOnlyList<FlowTestReport> FlowTests { get; private set; } = [];

    /// <summary>The figures <c>GET /admin/organisations/{ods}/data-quality</c> gives (the same call), so the page and the API never differ.</summary>
    public DataQualityReport DataQuality { get; private set; } = null!;

    public IReadOnlyList<RegistryChange> History { get; private set; } = [];

    public IReadOnlyList<LifecycleState> AllowedTransitions { get; private set; } = [];

    /// <summary>Why the last change was refused, in the registry's words.</summary>
    public string? Problem { get; private set; }

    /// <summary>What the last change did.</summary>
    public string? Done { get; private set; }

    public async Task<IActionResult> OnGetAsync(string odsCode) => await LoadAsync(odsCode) ? Page() : NotFound();

    public async Task<IActionResult> OnPostTransitionAsync(string odsCode, LifecycleState to, string? reason, string? etag)
    {
        // The form carries the ETag the admin saw, so a change made meanwhile by someone else is not overwritten.
        Request.Headers.IfMatch = etag;
        try
        {
            await OrganisationAdminEndpoints.TransitionAsync(
                odsCode, new TransitionRequest(to, reason ?? ""), Service<AdminActions>(), Service<IOptions<RegistryOptions>>(), HttpContext);
            Done = $"Moved to {StateTag.Words(to)}.";
        }
        catch (RegistryRefusal refusal)
        {
            Response.StatusCode = refusal.StatusCode;
            Problem = refusal.Message;
        }

        return await LoadAsync(odsCode) ? Page() : NotFound();
    }

    public async Task<IActionResult> OnPostFlowTestAsync(string odsCode, string? testNhsNumber)
    {
        try
        {
            await OrganisationAdminEndpoints.RunFlowTestAsync(
                odsCode, new FlowTestRequest(testNhsNumber), registry, Service<FlowTester>(), Service<AdminActions>(), Service<IOptions<RegistryOptions>>(), HttpContext);
            Done = "Flow test run: see the newest report below.";
        }
        catch (RegistryRefusal refusal)
        {
            Response.StatusCode = refusal.StatusCode;
            Problem = refusal.Message;
        }

        return await LoadAsync(odsCode) ? Page() : NotFound();
    }

    /// <summary>The signed agreement PDF, through the admin API's download so the bytes and digest header are the same.</summary>
    public async Task<IActionResult> OnGetDocumentAsync(string odsCode, string id)
    {
        try
        {
            return new ResultAction(await AgreementAdminEndpoints.DownloadDocumentAsync(odsCode, id, registry, Service<IBlobStores>(), HttpContext));
        }
        catch (RegistryRefusal refusal)
        {
            return StatusCode(refusal.StatusCode, refusal.Message);
        }
    }

    private async Task<bool> LoadAsync(string odsCode)
    {
        var snapshot = registry.Current;
        if (snapshot.Find(odsCode) is not { } organisation)
        {
            return false;
        }

        Organisation = organisation;
        Agreements = [.. snapshot.AgreementsOf(organisation.OdsCode)];
        AllowedTransitions = Lifecycle.AllowedFrom(organisation.State);
        History = [.. snapshot.History.Where(h => h.Subject == $"Organization/{organisation.OdsCode}").OrderByDescending(h => h.At)];
        FlowTests = await Service<FlowTester>().ListAsync(organisation.OdsCode, HttpContext.RequestAborted);
        DataQuality = DataQualityEndpoint.Report(organisation, Service<DataQualityFigures>(), Service<IOptions<ValidationOptions>>());
        return true;
    }

    private T Service<T>() where T : notnull => HttpContext.RequestServices.GetRequiredService<T>();
}
