using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.PatientMatching;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Pages;

/// <summary>
/// The gateway in Development (so the development sign-in page exists) on Kestrel at a loopback port, four WireMock
/// sources, and headless Chromium driven by Playwright. Shared by the page tests: starting Chromium is the slow part.
/// </summary>
public sealed class PagesBrowser : IAsyncLifetime, IDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>Held by all four sources.</summary>
    public const string EveryoneHolds = "9000000009";

    /// <summary>Held by all four, but RBL fails when asked.</summary>
    public const string HospitalFails = "9000000122";

    /// <summary>The patient has objected to sharing.</summary>
    public const string Objected = "9000000262";

    /// <summary>A registered organisation nothing depends on, for lifecycle changes.</summary>
    public const string SpareOrganisation = "N85009";

    private readonly TestIssuer _issuer = new();
    private IPlaywright? _playwright;

    public PagesBrowser()
    {
        Sources =
        [
            Source("N85001", "Riverside Surgery", OrganisationKind.GpPractice),
            Source("N85002", "Hillside Practice", OrganisationKind.GpPractice),
            Source("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust),
            Source("RY7", "Wirral Community Health and Care", OrganisationKind.CommunityTrust),
        ];
        var rbl = Sources[2];
        rbl.Server.Given(Request.Create().UsingGet().WithPath("/fhir/Patient").WithParam("identifier", $"{NhsNumber.System}|{HospitalFails}"))
            .AtPriority(0)
            .RespondWith(Response.Create().WithStatusCode(HttpStatusCode.InternalServerError));
        Sources[0].WithPatient(FhirSource.NewPatient("gp-objected", Objected), ClinicalData.Allergy("gp-objected-allergy", "gp-objected"));
        Gateway = new GatewayHost(_issuer, Sources, registry =>
        {
            registry.Objections.Add(new() { NhsNumber = Objected, RecordedOn = new DateOnly(2024, 5, 1), RecordedBy = "GP practice" });
            registry.Organisations.Add(new RegistryDocument.OrganisationEntry
            {
                OdsCode = SpareOrganisation, Name = "Spare Practice", Kind = OrganisationKind.GpPractice, FhirBaseUrl = "http://127.0.0.1:9/fhir", Phase = 1, State = LifecycleState.Registered,
            });
        }, environment: "Development");
    }

    public IReadOnlyList<FhirSource> Sources { get; }

    public GatewayHost Gateway { get; }

    public string BaseUrl { get; private set; } = "";

    public IBrowser Browser { get; private set; } = null!;

    public static string ScreenshotFolder { get; } = Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");

    public async Task InitializeAsync()
    {
        // CI installs Chromium (.ci/run); a machine without it must fail loudly, never skip.
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"The browser tests need Chromium at {ChromiumPath}: run 'apt-get update && apt-get install -y chromium' (.ci/run does this). Never 'playwright install'.");
        }

        Gateway.UseKestrel(0);
        Gateway.StartServer();
        BaseUrl = Gateway.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .First(a => a.StartsWith("http://", StringComparison.Ordinal)).Replace("[::]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/');
        Directory.CreateDirectory(ScreenshotFolder);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChromiumPath,
            Args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>A fresh browser session (no cookies) at the given size, recording console errors and page errors.</summary>
    public async Task<BrowserSession> NewSessionAsync(int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new() { ViewportSize = new() { Width = width, Height = height }, BaseURL = BaseUrl });
        // The NHS fonts come from assets.nhs.uk, which tests must not depend on; the pages fall back to Arial.
        await context.RouteAsync("https://assets.nhs.uk/**", route => route.FulfillAsync(new() { Status = 204 }));
        var page = await context.NewPageAsync();
        var session = new BrowserSession(context, page);
        page.Console += (_, message) =>
        {
            // A refusal page's own status (403) is logged by Chromium as a failed load; tests assert that status themselves.
            // The design system's CSS names the NHS fonts on assets.nhs.uk; the pages' Content-Security-Policy (fonts from the
            // gateway only) blocks them, and the pages fall back to Arial, as they did when the fonts could not be fetched.
            if (message.Type == "error" && message.Text.Contains("https://assets.nhs.uk/fonts/", StringComparison.Ordinal) && message.Text.Contains("font-src 'self'", StringComparison.Ordinal))
            {
                return;
            }

            if (message.Type == "error" && !(message.Text.StartsWith("Failed to load resource", StringComparison.Ordinal) && message.Location.StartsWith(page.Url, StringComparison.Ordinal)))
            {
                session.Errors.Add($"console: {message.Text} ({message.Location})");
            }
        };
        page.PageError += (_, error) => session.Errors.Add($"page error: {error}");
        return session;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        Gateway.Dispose();
        foreach (var source in Sources)
        {
            source.Dispose();
        }
    }

    public void Dispose() => _issuer.Dispose();

    private static FhirSource Source(string ods, string name, OrganisationKind kind)
    {
        var source = new FhirSource(ods, name, kind);
        foreach (var (nhs, suffix) in new[] { (EveryoneHolds, "a"), (HospitalFails, "b") })
        {
            var patientId = $"{ods.ToLowerInvariant()}-{suffix}";
            source.WithPatient(
                FhirSource.NewPatient(patientId, nhs),
                ClinicalData.Condition($"{patientId}-condition", patientId, display: $"Condition recorded by {ods}"),
                ClinicalData.Allergy($"{patientId}-allergy", patientId));
        }

        return source;
    }
}

/// <summary>One browser context and page, with what went wrong in it.</summary>
public sealed class BrowserSession(IBrowserContext context, IPage page) : IAsyncDisposable
{
    public IBrowserContext Context { get; } = context;

    public IPage Page { get; } = page;

    public List<string> Errors { get; } = [];

    /// <summary>Signs in on the development sign-in page as one of its demo users.</summary>
    public async Task SignInAsync(string userId)
    {
        await Page.GotoAsync("/signin");
        await SubmitAsync($"button[data-user='{userId}']");
    }

    /// <summary>Clicks a submit button and waits for the page the form leads to.</summary>
    public async Task SubmitAsync(string selector)
    {
        // Playwright's click waits for the navigation it starts to commit; then wait for the new page to load.
        await Page.ClickAsync(selector);
        await Page.WaitForLoadStateAsync(LoadState.Load);
    }

    public Task ScreenshotAsync(string name) =>
        Page.ScreenshotAsync(new() { Path = Path.Combine(PagesBrowser.ScreenshotFolder, name + ".png"), FullPage = true });

    public async ValueTask DisposeAsync() => await Context.DisposeAsync();
}
