using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace WirralCareRecord.Gateway.Tests.Pages;

/// <summary>
/// The record page streams each source's progress while the others are still answering (issue 19): a slow source never
/// leaves a blank page, with or without script, and nothing about the patient reaches the browser before the read's audit.
/// A fixture of its own, because one test breaks the audit store.
/// </summary>
public sealed partial class RecordProgressTests(PagesBrowser browser) : IClassFixture<PagesBrowser>
{
    private const string HospitalClinician = "dev-clinician-rbl";

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RecordPage_OneSourceSlow_ShowsFastAnswerWhileSlowIsStillAskedThenTheRecord(bool javaScript)
    {
        await using var session = await browser.NewSessionAsync(javaScript: javaScript);
        await session.SignInAsync(HospitalClinician);
        await session.Page.GotoAsync("/record");
        await session.Page.FillAsync("#nhs-number", PagesBrowser.SlowCommunity);

        var clock = Stopwatch.StartNew();
        await session.Page.ClickAsync("button:has-text('Find record')");
        await session.Page.Locator("[data-testid=progress-source][data-ods=N85001][data-state=answered]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
        var fastSeenAt = clock.Elapsed;
        var slowAnswered = await session.Page.Locator("[data-testid=progress-source][data-ods=RY7]:not([data-state=asking])").CountAsync();
        var slowAsking = await session.Page.Locator("[data-testid=progress-source][data-ods=RY7][data-state=asking]").CountAsync();
        var namesShown = await session.Page.Locator("[data-testid=patient-name]").CountAsync();

        Assert.True(fastSeenAt < PagesBrowser.SlowAnswer - TimeSpan.FromSeconds(0.5), $"The fast source's answer was shown after {fastSeenAt.TotalSeconds:0.0} s, not before the slow one answered.");
        Assert.Equal(1, slowAsking);
        Assert.Equal(0, slowAnswered);
        Assert.Equal(0, namesShown);

        await session.Page.WaitForLoadStateAsync(LoadState.Load);
        Assert.True(clock.Elapsed >= PagesBrowser.SlowAnswer - TimeSpan.FromSeconds(0.2), "The page finished before the slow source answered.");
        Assert.Equal("900 000 0386", await session.Page.InnerTextAsync("[data-testid=patient-nhs-number]"));
        Assert.Contains(await session.Page.Locator("[data-testid=row-source]").AllTextContentsAsync(), s => s.Contains("(N85001)", StringComparison.Ordinal));
        Assert.Equal("answered", await session.Page.Locator("[data-testid=progress-source][data-ods=RY7]:not([data-state=asking])").GetAttributeAsync("data-state"));
        // The progress is hidden once the record follows it, by CSS alone; the record's own source list says how each answered.
        Assert.True(await session.Page.Locator("[data-testid=progress]").IsHiddenAsync());
        Assert.True(await session.Page.Locator("[data-testid=source-status]").IsVisibleAsync());
        if (javaScript)
        {
            await session.ScreenshotAsync("record-after-slow-source");
            await session.AssertCleanAsync();
        }
        else
        {
            Assert.True(session.Errors.Count == 0, string.Join(Environment.NewLine, session.Errors));
        }
    }

    [Fact]
    public async Task RecordPage_AuditStoreFails_StreamsSourceStatusOnlyAndEndsWithTheRefusal()
    {
        await using var session = await browser.NewSessionAsync();
        await session.SignInAsync(HospitalClinician);
        await session.Page.GotoAsync("/record");
        await session.Page.FillAsync("#nhs-number", PagesBrowser.EveryoneHolds);

        string html;
        using (browser.Gateway.BreakAuditStorage())
        {
            await session.SubmitAsync("button:has-text('Find record')");
            html = await session.Page.ContentAsync();
        }

        // The sources' progress was streamed (organisation names and how each call went)...
        var asked = await session.Page.Locator("[data-testid=progress-source][data-state=asking]").CountAsync();
        Assert.True(asked > 0);
        Assert.Equal(asked, await session.Page.Locator("[data-testid=progress-source][data-state=answered]").CountAsync());
        // ...and the page ends with the refusal, with nothing about the patient anywhere in it.
        Assert.Contains("could not be recorded in the audit log", await session.Page.InnerTextAsync("[data-testid=read-done] [data-testid=refusal]"), StringComparison.Ordinal);
        Assert.Equal(0, await session.Page.Locator("[data-testid=patient-name]").CountAsync());
        foreach (var clinical in new[] { "Jones", "Sarah", "JONES", "1958", "Condition recorded by", "Appointment at", "mmHg", "Discharge" })
        {
            Assert.DoesNotContain(clinical, html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RecordPage_OneSourceSlow_SendsTheFastAnswerOverTheWireBeforeTheSlowOne()
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(browser.BaseUrl) };
        using (var signIn = await client.PostAsync(new Uri("/signin", UriKind.Relative), Form(await TokenAsync(client, "/signin"), ("userId", HospitalClinician), ("returnUrl", "/"))))
        {
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/record") { Content = Form(await TokenAsync(client, "/record"), ("NhsNumber", PagesBrowser.SlowCommunity)) };
        var clock = Stopwatch.StartNew();
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.True(response.StatusCode == HttpStatusCode.OK, string.Join(Environment.NewLine, browser.Gateway.Logs.Lines.TakeLast(3)));
        await using var body = await response.Content.ReadAsStreamAsync();
        var received = new StringBuilder();
        var buffer = new byte[4096];
        TimeSpan? fastAt = null;
        var timeline = new List<string> { $"{clock.Elapsed.TotalSeconds:0.00}s headers" };
        string? whenFastArrived = null;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            received.Append(Encoding.UTF8.GetString(buffer, 0, read));
            timeline.Add($"{clock.Elapsed.TotalSeconds:0.00}s {read}b: {Regex.Replace(Encoding.UTF8.GetString(buffer, 0, Math.Min(read, 300)), "\\s+", " ")}");
            if (fastAt is null && received.ToString().Contains("data-ods=\"N85001\" data-state=\"answered\"", StringComparison.Ordinal))
            {
                fastAt = clock.Elapsed;
                whenFastArrived = received.ToString();
            }
        }

        var page = received.ToString();
        Assert.NotNull(fastAt);
        Assert.True(fastAt < PagesBrowser.SlowAnswer - TimeSpan.FromSeconds(0.5), $"The fast source's answer arrived after {fastAt.Value.TotalSeconds:0.0} s: " + string.Join(Environment.NewLine, timeline));
        Assert.Contains("data-ods=\"RY7\" data-state=\"asking\"", whenFastArrived, StringComparison.Ordinal);
        Assert.DoesNotContain("data-ods=\"RY7\" data-state=\"answered\"", whenFastArrived, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"patient-name\"", whenFastArrived, StringComparison.Ordinal);
        Assert.Contains("data-ods=\"RY7\" data-state=\"answered\"", page, StringComparison.Ordinal);
        Assert.Contains("900 000 0386", page, StringComparison.Ordinal);
        Assert.EndsWith("</html>", page.TrimEnd(), StringComparison.Ordinal);
    }

    private static async Task<string> TokenAsync(HttpClient client, string path) =>
        AntiforgeryField().Match(await client.GetStringAsync(new Uri(path, UriKind.Relative))).Groups[1].Value;

    private static FormUrlEncodedContent Form(string token, params (string Name, string Value)[] fields) =>
        new([.. fields.Select(f => KeyValuePair.Create(f.Name, f.Value)), KeyValuePair.Create("__RequestVerificationToken", token)]);

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
