using System.Diagnostics;
using System.Net;
using Hl7.Fhir.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Resilience;

/// <summary>
/// A source's circuit breaker seen from outside: the dead source's own request log says when it was called, the
/// clinician's Bundle says it was skipped, and the breakers' clock is moved by hand rather than waited for.
/// </summary>
/// <remarks>
/// Only the breakers get the moved clock (<see cref="ShiftedTimeProvider"/>, injected into <see cref="SourcePipelines"/>):
/// Polly's timeout strategy runs on the same clock, and a clock that never ticks would never time a source out. The rest
/// of the gateway keeps real time.
/// </remarks>
public sealed class CircuitBreakerTests : IDisposable
{
    private const string Nhs = "9000000009";
    private const int MinimumThroughput = 3;
    private static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan SourceTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(4);
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);
    private readonly ShiftedTimeProvider _breakerClock = new();
    private readonly Guid _outage = Guid.NewGuid();

    public CircuitBreakerTests()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        // The hospital holds the patient, but answers 500 to everything until the outage mapping is removed.
        _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Encounter("e1", "pas-1"));
        _acute.Server.Given(Request.Create().UsingAnyMethod().WithPath(new WireMock.Matchers.WildcardMatcher("/*")))
            .WithGuid(_outage)
            .AtPriority(0)
            .RespondWith(Response.Create().WithStatusCode(500).WithHeader("Content-Type", FhirJson.ContentType).WithBody("{}"));
    }

    [Fact]
    public async Task GetRecord_SourceFailsMinimumThroughputTimes_BreakerOpensAndSourceIsNoLongerCalled()
    {
        // Arrange
        using var host = Host();
        using var client = host.CreateClient(_issuer.CreateToken());

        // Act
        var failing = await ReadsAsync(client, MinimumThroughput);
        var callsWhenOpened = AcuteCalls();
        var skipped = await ReadsAsync(client, 4);

        // Assert
        Assert.Equal(MinimumThroughput, callsWhenOpened);
        Assert.Equal(MinimumThroughput, AcuteCalls());
        Assert.All(failing, bundle => AssertGpServedAndAcute(bundle, "failed", "HTTP 500"));
        Assert.All(skipped, bundle => AssertGpServedAndAcute(bundle, "circuit-open", "was not asked"));
    }

    [Fact]
    public async Task GetRecord_BreakOverAndSourceStillFailing_OneTrialCallThenOpenAgain()
    {
        // Arrange
        using var host = Host();
        using var client = host.CreateClient(_issuer.CreateToken());
        await ReadsAsync(client, MinimumThroughput);
        Assert.Equal(MinimumThroughput, AcuteCalls());

        // Act: the break is over; several clinicians read at once, and afterwards another one.
        _breakerClock.Offset += BreakDuration + TimeSpan.FromSeconds(1);
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => ReadAsync(client)));
        var afterTrial = await ReadsAsync(client, 2);

        // Assert: exactly one read was let through to the source, it failed, and the breaker opened again.
        Assert.Equal(MinimumThroughput + 1, AcuteCalls());
        Assert.Single(concurrent, bundle => AcuteIssue(bundle).Code == "failed");
        Assert.Equal(3, concurrent.Count(bundle => AcuteIssue(bundle).Code == "circuit-open"));
        Assert.All(concurrent, bundle => Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "c1" }));
        Assert.All(afterTrial, bundle => AssertGpServedAndAcute(bundle, "circuit-open", "was not asked"));
    }

    [Fact]
    public async Task GetRecord_BreakOverAndSourceRecovered_TrialSucceedsBreakerClosesAndItsDataIsBack()
    {
        // Arrange
        using var host = Host();
        using var client = host.CreateClient(_issuer.CreateToken());
        await ReadsAsync(client, MinimumThroughput);
        _acute.Server.DeleteMapping(_outage);
        var skipped = await ReadAsync(client);
        Assert.Equal(MinimumThroughput, AcuteCalls());

        // Act
        _breakerClock.Offset += BreakDuration + TimeSpan.FromSeconds(1);
        var trial = await ReadAsync(client);
        var afterwards = await ReadsAsync(client, 2);

        // Assert: while open the recovered source was still skipped; the trial brought its data back and closed the breaker.
        AssertGpServedAndAcute(skipped, "circuit-open", "was not asked");
        Assert.All(afterwards.Prepend(trial), bundle =>
        {
            Assert.Contains(bundle.Entry, e => e.Resource is Encounter { Id: "e1" });
            Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "c1" });
            Assert.DoesNotContain(bundle.SourceIssues(), i => i.Location.Any(l => l.EndsWith("|RBL", StringComparison.Ordinal)));
        });
        Assert.Equal(MinimumThroughput + 3, AcuteCalls());
    }

    private GatewayHost Host() => new(_issuer, [_gp, _acute], settings: new()
    {
        ["Federation:SourceTimeout"] = "00:00:02",
        ["Federation:BreakerMinimumThroughput"] = MinimumThroughput.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Federation:BreakerFailureRatio"] = "0.5",
        // A window far longer than the test, so only the moved clock decides what the breaker remembers.
        ["Federation:BreakerSamplingDuration"] = "00:30:00",
        ["Federation:BreakerBreakDuration"] = "00:00:30",
        // YARP's probes of /metadata would mark the dead source unavailable on their own schedule, which is not the breaker.
        ["Federation:SourceHealthCheckInterval"] = "01:00:00",
        ["RateLimits:PerUserPerMinute"] = "100000",
        ["RateLimits:PerOrganisationPerMinute"] = "1000000",
    }, services: services => services.AddSingleton(provider => new SourcePipelines(
        provider.GetRequiredService<IOptions<FederationOptions>>(), _breakerClock, provider.GetRequiredService<GatewayTelemetry>())));

    /// <summary>
    /// Reads of the patient's record the hospital received: one Patient search per read that reached it (the record
    /// searches follow only a found patient). Capability reads and health probes of <c>/metadata</c> are left out.
    /// </summary>
    private int AcuteCalls() => _acute.DataRequests.Count(e => e.RequestMessage?.Path == "/fhir/Patient");

    private static async Task<Bundle> ReadAsync(HttpClient client)
    {
        var clock = Stopwatch.StartNew();
        var response = await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");
        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.True(clock.Elapsed < SourceTimeout + Margin, $"answered after {clock.Elapsed.TotalSeconds:0.0} s");
        return bundle;
    }

    private static async Task<IReadOnlyList<Bundle>> ReadsAsync(HttpClient client, int count)
    {
        var bundles = new List<Bundle>();
        for (var i = 0; i < count; i++)
        {
            // One after another, so each read's failure is counted before the next read asks the breaker.
            bundles.Add(await ReadAsync(client));
        }

        return bundles;
    }

    private static (string? Code, string Text) AcuteIssue(Bundle bundle)
    {
        var issue = Assert.Single(bundle.SourceIssues(), i => i.Location.Contains($"{OdsCode.System}|RBL"));
        return (issue.Details?.Coding.SingleOrDefault()?.Code, issue.Diagnostics + " " + issue.Details?.Text);
    }

    private static void AssertGpServedAndAcute(Bundle bundle, string code, string text)
    {
        Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "c1" });
        Assert.DoesNotContain(bundle.Entry, e => e.Resource is Encounter);
        var issue = AcuteIssue(bundle);
        Assert.Equal(code, issue.Code);
        Assert.Contains("RBL", issue.Text, StringComparison.Ordinal);
        Assert.True(issue.Text.Contains(text, StringComparison.Ordinal), $"'{text}' not in: {issue.Text}");
    }

    public void Dispose()
    {
        _gp.Dispose();
        _acute.Dispose();
        _issuer.Dispose();
    }
}
