using System.Globalization;
using System.Net;
using Deque.AxeCore.Playwright;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.PatientMatching;
using WirralCareRecord.Gateway.Tests.Common;
using WirralCareRecord.Gateway.Tests.Launch;

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

    /// <summary>Held by N85001; the community trust (RY7) takes <see cref="SlowAnswer"/> to say it does not hold them.</summary>
    public const string SlowCommunity = "9000000386";

    /// <summary>How long RY7 takes to answer for <see cref="SlowCommunity"/>: well inside the sources' timeout here (<see cref="SourceTimeout"/>).</summary>
    public static readonly TimeSpan SlowAnswer = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Long beside <see cref="SlowAnswer"/>: with the whole suite starting at once on two cores (browsers, hosts, every
    /// answer validated), the 5 s the other tests use once turned the slow source's 3 s answer into a timeout.
    /// </summary>
    private static readonly TimeSpan SourceTimeout = TimeSpan.FromSeconds(20);

    /// <summary>What the hospital's discharge letter says.</summary>
    public const string DischargeLetterText = "Discharge summary: admitted with community-acquired pneumonia, treated with clarithromycin (penicillin allergy). Home on day 4.";

    /// <summary>Held by N85001 and RY7; RY7's condition has no code, which WCR-Condition requires (a data-quality problem).</summary>
    public const string PoorData = "9000000289";

    /// <summary>A registered organisation nothing depends on, for lifecycle changes.</summary>
    public const string SpareOrganisation = "N85009";

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
        Sources[0].WithPatient(FhirSource.NewPatient("gp-slow", SlowCommunity), ClinicalData.Allergy("gp-slow-allergy", "gp-slow"));
        Sources[3].Server.Given(Request.Create().UsingGet().WithPath("/fhir/Patient").WithParam("identifier", $"{NhsNumber.System}|{SlowCommunity}"))
            .AtPriority(0)
            .RespondWith(Response.Create().WithStatusCode(HttpStatusCode.OK).WithHeader("Content-Type", FhirJson.ContentType)
                .WithBody(FhirJson.Serialize(Sources[3].SearchSet([]))).WithDelay(SlowAnswer));
        Sources[0].WithPatient(FhirSource.NewPatient("gp-poor", PoorData), ClinicalData.Encounter("gp-poor-enc", "gp-poor", "AMB", "Appointment at Riverside Surgery", "2025-09-04"));
        var uncoded = ClinicalData.Condition("ry7-poor-condition", "ry7-poor");
        uncoded.Code = null;
        Sources[3].WithPatient(FhirSource.NewPatient("ry7-poor", PoorData), uncoded, ClinicalData.Condition("ry7-poor-coded", "ry7-poor"));
        Gateway = new GatewayHost(Issuer, Sources, registry =>
        {
            // N85001's own record system launches the gateway (SMART EHR launch).
            registry.Organisations.Single(o => o.OdsCode == "N85001").RecordSystem = new WirralCareRecord.Gateway.Onboarding.RecordSystem(RecordSystem.Issuer, SmartRecordSystem.ClientId);
            registry.Objections.Add(new() { NhsNumber = Objected, RecordedOn = new DateOnly(2024, 5, 1), RecordedBy = "GP practice" });
            registry.Organisations.Add(new RegistryDocument.OrganisationEntry
            {
                OdsCode = SpareOrganisation, Name = "Spare Practice", Kind = OrganisationKind.GpPractice, FhirBaseUrl = "http://127.0.0.1:9/fhir", Phase = 1, State = LifecycleState.Registered,
            });
        },
        // Every answer sampled, so the onboarding page's data-quality figures follow from the tests' own reads.
        settings: new()
        {
            ["Validation:SampleShare"] = "1",
            ["Validation:SampleMaxCpuShare"] = "1",
            ["Federation:SourceTimeout"] = SourceTimeout.ToString("c", CultureInfo.InvariantCulture),
        },
        environment: "Development");
    }

    public IReadOnlyList<FhirSource> Sources { get; }

    /// <summary>Signs API tokens (an auditor's, to read the report).</summary>
    public TestIssuer Issuer { get; } = new();

    /// <summary>N85001's record system, from which clinicians open the gateway by context launch.</summary>
    public SmartRecordSystem RecordSystem { get; } = new();

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
        RecordSystem.GatewayUrl = BaseUrl;
        Directory.CreateDirectory(ScreenshotFolder);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChromiumPath,
            Args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>A fresh browser session (no cookies) at the given size, recording console errors and page errors.</summary>
    /// <param name="javaScript">False: a browser with script turned off, as some locked-down workstations run.</param>
    public async Task<BrowserSession> NewSessionAsync(int width = 1280, int height = 800, bool javaScript = true)
    {
        var context = await Browser.NewContextAsync(new() { ViewportSize = new() { Width = width, Height = height }, BaseURL = BaseUrl, JavaScriptEnabled = javaScript });
        var page = await context.NewPageAsync();
        var session = new BrowserSession(context, page, BaseUrl, RecordSystem.Server.Url!);
        // Every request any page makes, so a test can show none left the gateway's origin.
        context.Request += (_, request) => session.Requests.Add((request.Url, request.IsNavigationRequest));
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

    public void Dispose()
    {
        Issuer.Dispose();
        RecordSystem.Dispose();
    }

    private static FhirSource Source(string ods, string name, OrganisationKind kind)
    {
        var source = new FhirSource(ods, name, kind);
        foreach (var (nhs, suffix) in new[] { (EveryoneHolds, "a"), (HospitalFails, "b") })
        {
            var patientId = $"{ods.ToLowerInvariant()}-{suffix}";
            // Each source's own events on its own days (events on one day with one code are linked as the same item).
            var day = ods switch { "N85001" => "03", "N85002" => "17", "RBL" => "10", _ => "21" };
            var record = new List<Resource>
            {
                ClinicalData.Condition($"{patientId}-condition", patientId, display: $"Condition recorded by {ods}"),
                // The same penicillin allergy everywhere; the hospital recorded it on another day.
                ClinicalData.Allergy($"{patientId}-allergy", patientId, kind == OrganisationKind.AcuteTrust ? "2019-06-02" : "2018-03-14"),
                ClinicalData.Encounter($"{patientId}-enc-1", patientId, kind == OrganisationKind.AcuteTrust ? "IMP" : "AMB", $"Appointment at {name}", kind == OrganisationKind.AcuteTrust ? $"2024-02-{day}" : $"2025-09-{day}"),
            };
            if (kind is OrganisationKind.GpPractice or OrganisationKind.AcuteTrust)
            {
                record.Add(ClinicalData.BloodPressure($"{patientId}-bp-1", patientId, kind == OrganisationKind.AcuteTrust ? 142 : 128, 84, kind == OrganisationKind.AcuteTrust ? $"2024-02-{day}" : $"2025-09-{day}"));
                record.Add(ClinicalData.Encounter($"{patientId}-enc-2", patientId, "AMB", $"Review at {name}", $"2022-05-{day}"));
            }

            if (kind == OrganisationKind.AcuteTrust)
            {
                var letter = ClinicalData.Letter($"{patientId}-letter", patientId, $"{patientId}-letter-text", "Discharge summary", "2024-02-12");
                record.Add(letter);
                source.WithRead(letter);
                source.WithRead(new Binary
                {
                    Id = $"{patientId}-letter-text",
                    ContentType = "text/plain",
                    Data = System.Text.Encoding.UTF8.GetBytes(DischargeLetterText),
                });
            }

            source.WithPatient(FhirSource.NewPatient(patientId, nhs), [.. record]);
        }

        return source;
    }
}

/// <summary>One browser context and page, with what went wrong in it.</summary>
public sealed class BrowserSession(IBrowserContext context, IPage page, string gatewayOrigin, string recordSystemOrigin) : IAsyncDisposable
{
    /// <summary>Every request the pages made: its address, and whether it was a navigation (the launch's trip to the record system is one).</summary>
    public List<(string Url, bool Navigation)> Requests { get; } = [];

    /// <summary>
    /// The page made no request to any origin but the gateway's (navigations to the record system during a context
    /// launch aside), raised no console or script errors, and axe finds no serious or critical violations on it.
    /// </summary>
    public async Task AssertCleanAsync()
    {
        Assert.True(Errors.Count == 0, string.Join(Environment.NewLine, Errors));
        var elsewhere = Requests.Where(r => !SameOrigin(r.Url, gatewayOrigin) && !(r.Navigation && SameOrigin(r.Url, recordSystemOrigin))).Select(r => r.Url).ToList();
        Assert.True(elsewhere.Count == 0, "Requests to other origins: " + string.Join(", ", elsewhere));
        var axe = await Page.RunAxe();
        var serious = axe.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(serious.Count == 0, $"axe on {Page.Url}: " + string.Join("; ", serious.Select(v => $"{v.Impact} {v.Id}: {v.Help} ({string.Join(", ", v.Nodes.Take(3).Select(n => string.Join(" ", n.Target)))})")));
    }

    private static bool SameOrigin(string url, string origin) =>
        url.StartsWith("data:", StringComparison.Ordinal) || url.StartsWith("blob:", StringComparison.Ordinal)
        || (Uri.TryCreate(url, UriKind.Absolute, out var a) && Uri.TryCreate(origin, UriKind.Absolute, out var b) && a.Scheme == b.Scheme && a.Host == b.Host && a.Port == b.Port);

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
        // Playwright's click waits for the navigation it starts to commit; then wait for the new page to load. Twice in
        // CI (sign-in's redirect) the load event was never reported although the network then went idle, and the wait
        // ran out after 30 s: network idle, which follows load, ends the wait too.
        await Page.ClickAsync(selector);
        var load = Page.WaitForLoadStateAsync(LoadState.Load);
        var idle = Page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        var first = await Task.WhenAny(load, idle);
        _ = (first == load ? idle : load).ContinueWith(static t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        await first;
    }

    public async Task ScreenshotAsync(string name)
    {
        await Page.ScreenshotAsync(new() { Path = Path.Combine(PagesBrowser.ScreenshotFolder, name + ".png"), FullPage = true });
        // The screenshots in the repository's docs are refreshed on request (WCR_DOCS_SCREENSHOTS=1): the first screen, as a user sees it.
        if (Environment.GetEnvironmentVariable("WCR_DOCS_SCREENSHOTS") == "1" && DocsFolder() is { } docs)
        {
            await Page.ScreenshotAsync(new() { Path = Path.Combine(docs, name + ".png") });
        }
    }

    private static string? DocsFolder()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "WirralCareRecord.sln")))
            {
                return Directory.CreateDirectory(Path.Combine(folder.FullName, "docs", "screenshots")).FullName;
            }
        }

        return null;
    }

    public async ValueTask DisposeAsync() => await Context.DisposeAsync();
}
