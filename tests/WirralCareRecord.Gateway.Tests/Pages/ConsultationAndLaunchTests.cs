using System.Globalization;
using Hl7.Fhir.Model;
using Microsoft.Playwright;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.PatientMatching;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Pages;

/// <summary>
/// The record page as a GP uses it in a consultation, and the SMART context launch from N85001's own record system
/// (a WireMock SMART EHR) into it, in Chromium. Every page checked: no request to another origin, no serious or
/// critical axe violation.
/// </summary>
public sealed partial class PagesTests
{
    [Fact]
    public async Task RecordPage_ConsultationSummary_ShowsAllergyOnceValuesAndOpensLetterInFirstScreen()
    {
        await using var session = await browser.NewSessionAsync(1280, 800);
        await session.SignInAsync(GpClinician);
        await session.Page.GotoAsync("/record");
        await session.Page.FillAsync("#nhs-number", PagesBrowser.EveryoneHolds);
        await session.SubmitAsync("button:has-text('Find record')");

        // The penicillin allergy from four sources is one item naming every source, and the hospital's other date is said.
        var allergies = session.Page.Locator("[data-testid=summary-allergies] [data-testid=summary-item]");
        Assert.Equal(1, await allergies.CountAsync());
        Assert.Contains("Allergy to penicillin", await allergies.InnerTextAsync(), StringComparison.Ordinal);
        var sources = await allergies.Locator("[data-testid=item-sources]").InnerTextAsync();
        foreach (var name in new[] { "Riverside Surgery", "Hillside Practice", "Wirral University Teaching Hospital", "Wirral Community Health and Care" })
        {
            Assert.Contains(name, sources, StringComparison.Ordinal);
        }

        Assert.Contains("Dates differ", await allergies.Locator("[data-testid=item-disagreement]").InnerTextAsync(), StringComparison.Ordinal);

        // Blood pressures keep their values in component: shown as systolic/diastolic with the unit.
        var results = await session.Page.InnerTextAsync("[data-testid=summary-results]");
        Assert.Contains("128/84 mmHg", results, StringComparison.Ordinal);
        Assert.Contains("142/84 mmHg", results, StringComparison.Ordinal);

        // Every source's state at the top; the summary fits the first screen at 1280x800.
        Assert.Equal(4, await session.Page.Locator("[data-testid=source-state][data-state=answered]").CountAsync());
        var summary = await session.Page.Locator("[data-testid=summary]").BoundingBoxAsync();
        Assert.True(summary!.Y + summary.Height <= 800, $"The summary ends at {summary.Y + summary.Height}px, below the first screen (800px).");
        Assert.True(await session.Page.Locator("#encounter-timeline circle").CountAsync() >= 6);
        await session.ScreenshotAsync("record-consultation-summary");
        await session.AssertCleanAsync();

        // The hospital's discharge letter opens (a Binary at the source, read again through the page's letter handler).
        var letterPage = await session.Context.RunAndWaitForPageAsync(() => session.Page.Locator("[data-testid=summary-letters] [data-testid=open-letter]").First.ClickAsync());
        await letterPage.WaitForLoadStateAsync(LoadState.Load);
        Assert.Contains("clarithromycin (penicillin allergy)", await letterPage.InnerTextAsync("body"), StringComparison.Ordinal);
        var letterRead = browser.Gateway.AuditEvents().Last(e => e.Entity.Any(x => x.Description?.Contains("/DocumentReference/", StringComparison.Ordinal) == true));
        Assert.Equal(AuditEvent.AuditEventOutcome.N0, letterRead.Outcome);
        Assert.Equal(PagesBrowser.EveryoneHolds, letterRead.Entity.First(x => x.What?.Identifier?.System == NhsNumber.System).What.Identifier.Value);
        Assert.Equal("gateway-pages", ChannelOf(letterRead));
    }

    [Fact]
    public async Task RecordPage_LetterLinkOfAnotherUser_IsRefused()
    {
        string href;
        await using (var gp = await browser.NewSessionAsync())
        {
            await gp.SignInAsync(GpClinician);
            await gp.Page.GotoAsync("/record");
            await gp.Page.FillAsync("#nhs-number", PagesBrowser.EveryoneHolds);
            await gp.SubmitAsync("button:has-text('Find record')");
            href = await gp.Page.Locator("[data-testid=open-letter]").First.GetAttributeAsync("href") ?? "";
        }

        await using var other = await browser.NewSessionAsync();
        await other.SignInAsync(HospitalClinician);
        var response = await other.Page.GotoAsync(href);

        Assert.Equal(403, response!.Status);
        Assert.DoesNotContain("clarithromycin", await other.Page.ContentAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ContextLaunch_FromPracticeSystem_OpensRecordWithoutTypingAuditedAndCounted()
    {
        var launch = browser.RecordSystem.AddLaunch(FhirSource.NewPatient("ehr-sarah", PagesBrowser.EveryoneHolds));
        await using var session = await browser.NewSessionAsync(1280, 800);

        // The practice system's own page: its button is a link to the gateway's /launch, nothing typed.
        await session.Page.GotoAsync(browser.RecordSystem.Server.Url + "/practice");
        await session.Page.ClickAsync("#open-ehr-sarah");
        await session.Page.WaitForURLAsync(url => url.Contains("/record?launch=", StringComparison.Ordinal));
        await session.Page.WaitForLoadStateAsync(LoadState.Load);

        Assert.Equal("900 000 0009", await session.Page.InnerTextAsync("[data-testid=patient-nhs-number]"));
        Assert.Equal("Riverside Surgery", await session.Page.InnerTextAsync("[data-testid=launched-from]"));
        Assert.Equal(1, await session.Page.Locator("[data-testid=summary-allergies] [data-testid=summary-item]").CountAsync());
        Assert.DoesNotContain(PagesBrowser.EveryoneHolds, session.Page.Url, StringComparison.Ordinal);
        Assert.Contains("launch openid fhirUser patient/Patient.rs", browser.RecordSystem.RequestedScopes);
        Assert.NotEmpty(browser.RecordSystem.AcceptedVerifiers);
        await session.ScreenshotAsync("record-context-launch");
        await session.AssertCleanAsync();

        // Audited as any read, the user being the id_token's fhirUser, with channel "context launch".
        var read = browser.Gateway.AuditEvents().Last(e => e.Entity.Any(x => x.Description?.Contains("$wcr-getrecord", StringComparison.Ordinal) == true)
            && e.Agent.Any(a => a.Requestor == true && a.Who.Identifier.Value == "Practitioner/gp-asha-patel"));
        Assert.Equal(AuditEvent.AuditEventOutcome.N0, read.Outcome);
        Assert.Equal("context-launch", ChannelOf(read));
        Assert.Equal("N85001", read.Agent.First(a => a.Requestor == false && a.Who?.Identifier?.System == "https://fhir.nhs.uk/Id/ods-organization-code").Who.Identifier.Value);

        // And counted: the story-once report's local-system and context-launch figures for N85001.
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        using var auditor = new HttpClient { BaseAddress = new Uri(browser.BaseUrl) };
        auditor.DefaultRequestHeaders.Authorization = new("Bearer", browser.Issuer.CreateToken(role: "Auditor"));
        var csv = (await auditor.GetStringAsync($"/audit/$story-once-report?start={today}&end={today}&_format=csv")).Split("\r\n");
        var header = csv[0].Split(',');
        var row = csv.Select(l => l.Split(',')).First(c => c.Length == header.Length && c[0] == "total" && c[3] == "organisation" && c[4] == "N85001");
        Assert.True(int.Parse(row[Array.IndexOf(header, "context_launch_retrievals")], CultureInfo.InvariantCulture) >= 1);
        Assert.True(int.Parse(row[Array.IndexOf(header, "local_system_retrievals")], CultureInfo.InvariantCulture) >= 1);
        Assert.NotEqual("", row[Array.IndexOf(header, "local_system_share")]);
    }

    [Fact]
    public async Task ContextLaunch_UnknownIssuer_ShowsClearPage()
    {
        await using var session = await browser.NewSessionAsync();

        var response = await session.Page.GotoAsync("/launch?iss=" + Uri.EscapeDataString("http://127.0.0.1:9/fhir") + "&launch=abc");

        Assert.Equal(403, response!.Status);
        Assert.Equal("unknown-issuer", await session.Page.GetAttributeAsync("[data-testid=launch-problem]", "data-reason"));
        Assert.Contains("not registered", await session.Page.InnerTextAsync("h1"), StringComparison.Ordinal);
        await session.ScreenshotAsync("launch-unknown-issuer");
        await session.AssertCleanAsync();
    }

    [Fact]
    public async Task ContextLaunch_PatientWithoutNhsNumber_ShowsClearPageAndIsAudited()
    {
        var patient = FhirSource.NewPatient("ehr-no-nhs", PagesBrowser.EveryoneHolds);
        patient.Identifier.Clear();
        var launch = browser.RecordSystem.AddLaunch(patient);
        await using var session = await browser.NewSessionAsync();

        await session.Page.GotoAsync(browser.RecordSystem.LaunchUrl(launch));
        await session.Page.WaitForURLAsync(url => url.Contains("/launch/problem", StringComparison.Ordinal));

        Assert.Equal("missing-nhs-number", await session.Page.GetAttributeAsync("[data-testid=launch-problem]", "data-reason"));
        Assert.Contains("no NHS number", await session.Page.InnerTextAsync("h1"), StringComparison.Ordinal);
        await session.AssertCleanAsync();
        var refused = browser.Gateway.AuditEvents().Last(e => e.Entity.Any(x => x.Description?.Contains("/launch/callback", StringComparison.Ordinal) == true));
        Assert.Equal(AuditEvent.AuditEventOutcome.N4, refused.Outcome);
        Assert.Equal("context-launch", ChannelOf(refused));
    }

    [Fact]
    public async Task ContextLaunch_DemographicsDisagreeWithEverySource_ShowsCorroborationFailure()
    {
        var launch = browser.RecordSystem.AddLaunch(FhirSource.NewPatient("ehr-other-dob", PagesBrowser.EveryoneHolds, birthDate: "1971-11-30"));
        await using var session = await browser.NewSessionAsync();

        await session.Page.GotoAsync(browser.RecordSystem.LaunchUrl(launch));
        await session.Page.WaitForURLAsync(url => url.Contains("/record?launch=", StringComparison.Ordinal));

        Assert.Contains("could not be confirmed as this patient's", await session.Page.InnerTextAsync("[data-testid=refusal]"), StringComparison.Ordinal);
        Assert.Equal(0, await session.Page.Locator("[data-testid=summary]").CountAsync());
        await session.ScreenshotAsync("launch-corroboration-failed");
        await session.AssertCleanAsync();
    }

    [Fact]
    public async Task ContextLaunch_IdTokenForAnotherClient_IsRefused()
    {
        var launch = browser.RecordSystem.AddLaunch(FhirSource.NewPatient("ehr-aud", PagesBrowser.EveryoneHolds));
        browser.RecordSystem.IdTokenAudience = "another-app";
        try
        {
            await using var session = await browser.NewSessionAsync();
            await session.Page.GotoAsync(browser.RecordSystem.LaunchUrl(launch));
            await session.Page.WaitForURLAsync(url => url.Contains("/launch/problem", StringComparison.Ordinal));

            Assert.Equal("identity-not-valid", await session.Page.GetAttributeAsync("[data-testid=launch-problem]", "data-reason"));
            await session.Page.GotoAsync("/record");
            Assert.Contains("/signin", session.Page.Url, StringComparison.Ordinal);
        }
        finally
        {
            browser.RecordSystem.IdTokenAudience = null;
        }
    }

    [Fact]
    public async Task ContextLaunch_ReplayedCallback_IsExpired()
    {
        await using var session = await browser.NewSessionAsync();

        var response = await session.Page.GotoAsync("/launch/callback?code=abc&state=never-issued");

        Assert.Equal(400, response!.Status);
        Assert.Equal("expired", await session.Page.GetAttributeAsync("[data-testid=launch-problem]", "data-reason"));
    }

    [Fact]
    public async Task EveryPage_NoOtherOriginAndNoSeriousAxeViolations()
    {
        await using (var anonymous = await browser.NewSessionAsync())
        {
            await anonymous.Page.GotoAsync("/signin");
            await anonymous.AssertCleanAsync();
        }

        foreach (var (user, paths) in new[]
        {
            (GpClinician, new[] { "/", "/record", "/access-denied" }),
            (OnboardingAdmin, new[] { "/onboarding", "/onboarding/organisations/RBL" }),
            (Auditor, new[] { "/auditing", "/auditing/search", "/auditing/break-glass", "/auditing/verify" }),
        })
        {
            await using var session = await browser.NewSessionAsync();
            await session.SignInAsync(user);
            foreach (var path in paths)
            {
                var response = await session.Page.GotoAsync(path);
                Assert.True(response!.Status is 200 or 403, $"{path}: {response.Status}");
                await session.AssertCleanAsync();
            }
        }
    }

    private static string? ChannelOf(AuditEvent auditEvent) =>
        auditEvent.Entity.SelectMany(e => e.Detail).FirstOrDefault(d => d.Type == AuditEventFactory.ChannelDetail)?.Value is FhirString s ? s.Value : null;
}
