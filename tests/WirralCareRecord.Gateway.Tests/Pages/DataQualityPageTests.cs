using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using WirralCareRecord.Gateway.Tests.Onboarding;
using WirralCareRecord.Gateway.Validation;

namespace WirralCareRecord.Gateway.Tests.Pages;

/// <summary>Issue 17: the organisation's onboarding page shows its data-quality figures, the endpoint's own, to onboarding staff only.</summary>
public sealed partial class PagesTests
{
    [Fact]
    public async Task Onboarding_DataQualityAfterSampledReads_ShowsTheEndpointsFigures()
    {
        // A clinician's read of a patient whose community record has a condition without a code; the fixture samples every answer.
        await using (var clinician = await browser.NewSessionAsync())
        {
            await clinician.SignInAsync(GpClinician);
            await clinician.Page.GotoAsync("/record");
            await clinician.Page.FillAsync("#nhs-number", PagesBrowser.PoorData);
            await clinician.SubmitAsync("button:has-text('Find record')");
            Assert.Equal("900 000 0289", await clinician.Page.InnerTextAsync("[data-testid=patient-nhs-number]"));
        }

        using (var drained = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
        {
            await browser.Gateway.Services.GetRequiredService<SourceAnswerSampler>().DrainAsync(drained.Token);
        }

        using var api = new HttpClient { BaseAddress = new Uri(browser.BaseUrl) };
        api.DefaultRequestHeaders.Authorization = new("Bearer", browser.Issuer.CreateToken(role: "OnboardingAdmin"));
        var expected = await api.GetAsync("/admin/organisations/RY7/data-quality").ExpectAsync<DataQualityReport>(HttpStatusCode.OK);
        Assert.Contains(expected.MostFrequentProblems, p => p is { ResourceType: "Condition", Location: "Condition", Rule: "[1028] Missing required member: '…'" });

        await using var session = await browser.NewSessionAsync();
        await session.SignInAsync(OnboardingAdmin);
        await session.Page.GotoAsync("/onboarding/organisations/RY7");

        var section = session.Page.Locator("[data-testid=data-quality]");
        Assert.Equal(expected.ResourcesChecked.ToString(CultureInfo.InvariantCulture), await section.Locator("[data-testid=dq-checked]").GetAttributeAsync("data-value"));
        Assert.Equal(expected.ShareConformant?.ToString(CultureInfo.InvariantCulture), await section.Locator("[data-testid=dq-conformant]").GetAttributeAsync("data-value"));
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"{expected.ShareConformant * 100:0.##}% ({expected.ResourcesConformant} of {expected.ResourcesChecked})"), await section.Locator("[data-testid=dq-conformant]").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(expected.LastCheckedAt, DateTimeOffset.Parse(await section.Locator("[data-testid=dq-checked-at] time").GetAttributeAsync("datetime") ?? "", CultureInfo.InvariantCulture));
        var rows = section.Locator("[data-testid=dq-problem]");
        var shown = new List<(string, string, string, long)>();
        for (var i = 0; i < await rows.CountAsync(); i++)
        {
            var row = rows.Nth(i);
            shown.Add((
                await row.Locator("[data-testid=dq-rule]").InnerTextAsync(),
                await row.Locator("[data-testid=dq-location]").InnerTextAsync(),
                await row.Locator("[data-testid=dq-severity]").InnerTextAsync(),
                long.Parse(await row.Locator("[data-testid=dq-count]").GetAttributeAsync("data-value") ?? "", CultureInfo.InvariantCulture)));
        }

        Assert.Equal(expected.MostFrequentProblems.Select(p => (p.Rule, p.Location, p.Severity, p.Count)), shown);
        Assert.DoesNotContain(PagesBrowser.PoorData, await section.InnerTextAsync(), StringComparison.Ordinal);
        await session.ScreenshotAsync("onboarding-data-quality");
        await session.AssertCleanAsync();
    }

    [Fact]
    public async Task Onboarding_DataQualityNothingSampled_SaysNoAnswersSampledYet()
    {
        await using var session = await browser.NewSessionAsync();
        await session.SignInAsync(OnboardingAdmin);

        await session.Page.GotoAsync($"/onboarding/organisations/{PagesBrowser.SpareOrganisation}");

        Assert.Equal("No answers sampled yet.", await session.Page.InnerTextAsync("[data-testid=data-quality] [data-testid=dq-none]"));
        Assert.Equal(0, await session.Page.Locator("[data-testid=data-quality] [data-testid=dq-problems]").CountAsync());
        await session.AssertCleanAsync();
    }

    [Fact]
    public async Task Onboarding_DataQualityOtherRoles_Gets403PageWithoutTheFigures()
    {
        foreach (var user in new[] { GpClinician, HospitalClinician, Auditor })
        {
            await using var session = await browser.NewSessionAsync();
            await session.SignInAsync(user);

            var response = await session.Page.GotoAsync("/onboarding/organisations/RY7");

            Assert.Equal(403, response!.Status);
            Assert.Equal(0, await session.Page.Locator("[data-testid=data-quality]").CountAsync());
            var text = await session.Page.InnerTextAsync("body");
            Assert.DoesNotContain("Data quality", text, StringComparison.Ordinal);
            Assert.DoesNotContain("Resources checked", text, StringComparison.Ordinal);
            await session.AssertCleanAsync();
        }
    }
}
