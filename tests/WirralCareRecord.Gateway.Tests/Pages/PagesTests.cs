using Hl7.Fhir.Model;
using Microsoft.Playwright;

namespace WirralCareRecord.Gateway.Tests.Pages;

/// <summary>
/// The web pages in Chromium against the real gateway: each demo user signs in on the development sign-in page and
/// does their job, and the pages raise no console or script errors.
/// </summary>
public sealed partial class PagesTests(PagesBrowser browser) : IClassFixture<PagesBrowser>
{
    private const string GpClinician = "dev-clinician-n85001";
    private const string HospitalClinician = "dev-clinician-rbl";
    private const string OnboardingAdmin = "dev-onboardingadmin";
    private const string Auditor = "dev-auditor";

    [Fact]
    public async Task RecordPage_SignedOut_GoesToSignIn()
    {
        await using var session = await browser.NewSessionAsync();

        await session.Page.GotoAsync("/record");

        Assert.EndsWith("/signin?ReturnUrl=%2Frecord", session.Page.Url, StringComparison.Ordinal);
        Assert.Equal(4, await session.Page.Locator("button[data-user]").CountAsync());
        await session.AssertCleanAsync();
    }

    [Fact]
    public async Task RecordPage_GpClinicianLooksUpNhsNumber_ShowsRowsFromAllFourSourcesAndIsAudited()
    {
        await using var session = await browser.NewSessionAsync();
        await session.SignInAsync(GpClinician);

        await session.Page.GotoAsync("/record");
        await session.Page.FillAsync("#nhs-number", PagesBrowser.EveryoneHolds);
        await session.SubmitAsync("button:has-text('Find record')");

        Assert.Equal("900 000 0009", await session.Page.InnerTextAsync("[data-testid=patient-nhs-number]"));
        var sources = await session.Page.Locator("[data-testid=row-source]").AllTextContentsAsync();
        foreach (var ods in new[] { "N85001", "N85002", "RBL", "RY7" })
        {
            Assert.Contains(sources, s => s.Contains($"({ods})", StringComparison.Ordinal));
        }

        // The same condition from four sources is one item naming all four.
        Assert.Contains("Wirral Community Health and Care", await session.Page.InnerTextAsync("[data-testid=summary-problems] [data-testid=item-sources]"), StringComparison.Ordinal);
        await session.ScreenshotAsync("record-all-sources");
        await session.AssertCleanAsync();
        var read = browser.Gateway.AuditEvents().Last(e => e.Entity.Any(x => x.What?.Identifier?.Value == PagesBrowser.EveryoneHolds));
        Assert.Equal(AuditEvent.AuditEventOutcome.N0, read.Outcome);
        Assert.Equal("dev-clinician-n85001", read.Agent.First(a => a.Requestor == true).Who.Identifier.Value);
        Assert.Equal("gateway-pages", ChannelOf(read));
    }

    [Fact]
    public async Task RecordPage_OnTablet_ShowsRecord()
    {
        await using var session = await browser.NewSessionAsync(768, 1024);
        await session.SignInAsync(HospitalClinician);

        await session.Page.GotoAsync("/record");
        await session.Page.FillAsync("#nhs-number", PagesBrowser.EveryoneHolds);
        await session.SubmitAsync("button:has-text('Find record')");

        // The hospital's own record is not fetched back from itself: the other three sources' rows.
        var sources = await session.Page.Locator("[data-testid=row-source]").AllTextContentsAsync();
        Assert.Contains(sources, s => s.Contains("(N85001)", StringComparison.Ordinal));
        Assert.Contains(sources, s => s.Contains("(RY7)", StringComparison.Ordinal));
        await session.ScreenshotAsync("record-tablet");
        await session.AssertCleanAsync();
    }

    [Fact]
    public async Task RecordPage_SourceDown_ShowsNoticeNamingIt()
    {
        await using var session = await browser.NewSessionAsync();
        await session.SignInAsync(GpClinician);

        await session.Page.GotoAsync("/record");
        await session.Page.FillAsync("#nhs-number", PagesBrowser.HospitalFails);
        await session.SubmitAsync("button:has-text('Find record')");

        var notice = await session.Page.InnerTextAsync("[data-testid=source-notices]");
        Assert.Contains("RBL", notice, StringComparison.Ordinal);
        var sources = await session.Page.Locator("[data-testid=row-source]").AllTextContentsAsync();
        Assert.DoesNotContain(sources, s => s.Contains("(RBL)", StringComparison.Ordinal));
        Assert.Contains(sources, s => s.Contains("(RY7)", StringComparison.Ordinal));
        await session.ScreenshotAsync("record-source-down");
        await session.AssertCleanAsync();
    }

    [Fact]
    public async Task RecordPage_InvalidNhsNumber_ShowsErrorBesideField()
    {
        await using var session = await browser.NewSessionAsync();
        await session.SignInAsync(GpClinician);
        await session.Page.GotoAsync("/record");

        // As you type: formatted 3-3-4, and the check digit is questioned before submitting.
        await session.Page.Locator("#nhs-number").PressSequentiallyAsync("9000000008");
        await Assertions.Expect(session.Page.Locator("#nhs-number")).ToHaveValueAsync("900 000 0008");
        await Assertions.Expect(session.Page.Locator("#nhs-number-error")).ToContainTextAsync("not a valid NHS number");

        await session.SubmitAsync("button:has-text('Find record')");

        var group = session.Page.Locator(".nhsuk-form-group--error");
        Assert.Equal(1, await group.CountAsync());
        Assert.Contains("Error:", await group.Locator("#nhs-number-error").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal("numeric", await session.Page.GetAttributeAsync("#nhs-number", "inputmode"));
        Assert.Equal(0, await session.Page.Locator("[data-testid=patient-nhs-number]").CountAsync());
        await session.ScreenshotAsync("record-invalid-nhs-number");
        await session.AssertCleanAsync();
    }

    [Fact]
    public async Task RecordPage_ObjectionThenBreakGlass_RefusesThenOpensAuditedAsBreakGlass()
    {
        await using var session = await browser.NewSessionAsync();
        await session.SignInAsync(GpClinician);
        await session.Page.GotoAsync("/record");
        await session.Page.FillAsync("#nhs-number", PagesBrowser.Objected);
        await session.SubmitAsync("button:has-text('Find record')");

        Assert.Contains("opted out", await session.Page.InnerTextAsync("[data-testid=refusal]"), StringComparison.Ordinal);
        await session.Page.FillAsync("#break-glass-reason", "short");
        await session.SubmitAsync("button:has-text('break glass')");
        Assert.Contains("at least 10 characters", await session.Page.InnerTextAsync("#break-glass-error"), StringComparison.Ordinal);

        await session.Page.FillAsync("#break-glass-reason", "Unconscious in ED, need allergies");
        await session.SubmitAsync("button:has-text('break glass')");

        Assert.Equal("900 000 0262", await session.Page.InnerTextAsync("[data-testid=patient-nhs-number]"));
        Assert.Contains("break-glass", await session.Page.TextContentAsync("[data-testid=source-notices]") ?? "", StringComparison.Ordinal);
        await session.ScreenshotAsync("record-break-glass");
        await session.AssertCleanAsync();
        var opened = browser.Gateway.AuditEvents().Last(e => e.Entity.Any(x => x.What?.Identifier?.Value == PagesBrowser.Objected));
        Assert.Equal("BTG", opened.PurposeOfEvent.Single().Coding.Single().Code);
    }

    [Fact]
    public async Task AuditPages_Clinician_Gets403Page()
    {
        await using var session = await browser.NewSessionAsync();
        await session.SignInAsync(GpClinician);

        var response = await session.Page.GotoAsync("/auditing");

        Assert.Equal(403, response!.Status);
        Assert.Contains("Auditor", await session.Page.InnerTextAsync("[data-testid=refusal]"), StringComparison.Ordinal);
        await session.ScreenshotAsync("clinician-audit-403");
        await session.AssertCleanAsync();
    }

    [Fact]
    public async Task Onboarding_AdminMovesOrganisation_ShowsNewStateAndHistory()
    {
        await using var session = await browser.NewSessionAsync();
        await session.SignInAsync(OnboardingAdmin);

        await session.Page.GotoAsync("/onboarding");
        var phase1 = await session.Page.InnerTextAsync("[data-testid=phase-1]");
        Assert.Contains("Wirral University Teaching Hospital (RBL)", phase1, StringComparison.Ordinal);
        Assert.Contains("Live", phase1, StringComparison.Ordinal);
        Assert.Contains("Registered", phase1, StringComparison.Ordinal);
        await session.ScreenshotAsync("onboarding");

        await session.SubmitAsync("a:has-text('(RBL)')");
        Assert.Contains("WCR-DSA-TEST", await session.Page.InnerTextAsync("main"), StringComparison.Ordinal);
        await session.Page.GotoAsync("/onboarding");
        await session.SubmitAsync($"a:has-text('({PagesBrowser.SpareOrganisation})')");
        var withdraw = session.Page.Locator("[data-testid=transition-Withdrawn]");
        await withdraw.Locator("textarea").FillAsync("Practice merged into N85001");
        await withdraw.Locator("button").ClickAsync();
        await session.Page.WaitForLoadStateAsync(LoadState.Load);

        Assert.Equal("Withdrawn", await session.Page.InnerTextAsync("[data-testid=state]"));
        Assert.Contains("Practice merged into N85001", await session.Page.InnerTextAsync("[data-testid=history]"), StringComparison.Ordinal);
        await session.ScreenshotAsync("onboarding-organisation");
        await session.AssertCleanAsync();
    }

    [Fact]
    public async Task AuditDashboard_Auditor_RendersChartsTableSearchAndCsv()
    {
        // A read to count, made through the page as a clinician would.
        await using (var clinician = await browser.NewSessionAsync())
        {
            await clinician.SignInAsync(HospitalClinician);
            await clinician.Page.GotoAsync("/record");
            await clinician.Page.FillAsync("#nhs-number", PagesBrowser.EveryoneHolds);
            await clinician.SubmitAsync("button:has-text('Find record')");
        }

        await using var session = await browser.NewSessionAsync();
        await session.SignInAsync(Auditor);
        await session.Page.GotoAsync("/auditing");

        Assert.Equal(2, await session.Page.Locator("svg.wcr-chart").CountAsync());
        Assert.True(await session.Page.Locator("#chart-retrievals rect").CountAsync() >= 14);
        Assert.Contains("record retrieval", await session.Page.InnerTextAsync("[data-testid=total]"), StringComparison.Ordinal);
        Assert.DoesNotContain("0 record retrieval(s)", await session.Page.InnerTextAsync("[data-testid=total]"), StringComparison.Ordinal);
        Assert.True(await session.Page.Locator("[data-testid=figures] tbody tr").CountAsync() >= 14);
        await session.ScreenshotAsync("audit-dashboard");

        var csv = await session.Context.APIRequest.GetAsync(await session.Page.GetAttributeAsync("[data-testid=csv]", "href") ?? "");
        Assert.Equal(200, csv.Status);
        Assert.StartsWith("period,start,end,scope", await csv.TextAsync(), StringComparison.Ordinal);

        await session.Page.GotoAsync("/auditing/search");
        await session.Page.FillAsync("#patient", PagesBrowser.EveryoneHolds);
        await session.Page.FillAsync("#organisation", "RBL");
        await session.SubmitAsync("button:has-text('Search')");
        var results = await session.Page.InnerTextAsync("[data-testid=audit-results]");
        Assert.Contains("Dr Tom Hughes", results, StringComparison.Ordinal);
        Assert.Contains("900 000 0009", results, StringComparison.Ordinal);
        await session.ScreenshotAsync("audit-search");

        await session.Page.GotoAsync("/auditing/break-glass");
        await session.Page.GotoAsync("/auditing/verify");
        Assert.Contains("intact", await session.Page.InnerTextAsync("[data-testid=verification]"), StringComparison.Ordinal);
        await session.AssertCleanAsync();
    }

    [Fact]
    public async Task AuditCsv_WithoutPageSignIn_IsNotServed()
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(browser.BaseUrl) };
        using var response = await client.GetAsync(new Uri("/auditing?handler=csv", UriKind.Relative));

        Assert.Equal(System.Net.HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("/signin", response.Headers.Location!.ToString(), StringComparison.Ordinal);
    }
}
