using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;
using Xunit.Abstractions;

namespace WirralCareRecord.Gateway.Tests.Resilience;

/// <summary>
/// Blob storage (Azurite) lost and given back while clinicians are reading: nothing is served unaudited while it is
/// gone, and the same gateway, never restarted, serves again once it is back.
/// </summary>
public sealed class StorageFaultTests(ITestOutputHelper output) : IDisposable
{
    private const string Nhs = "9000000009";
    private const string Snomed = "44054006";
    private const int Clients = 6;

    /// <summary>The locator's read and store and the audit write, a second each, and a generous margin for a shared machine.</summary>
    private static readonly TimeSpan RefusalBound = TimeSpan.FromSeconds(3 + 5);
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);

    private enum Phase
    {
        Before,
        Cut,
        Restored,
    }

    private sealed record Answer(Phase Started, Phase Ended, HttpStatusCode Status, string RequestId, string Body, TimeSpan Took);

    [Fact]
    public async Task GetRecord_AzuriteCutUnderLoadThenRestored_Refuses503ThenServesAndEvery200IsAudited()
    {
        // Arrange: the gateway reaches the shared Azurite only through a forwarder the test can cut.
        var azurite = await Azurite.InstanceAsync();
        using var forwarder = new TcpForwarder(azurite.Port);

        // Act and assert
        await AssertOutageAsync(azurite.GatewaySettings(viaPort: forwarder.Port), forwarder.Cut, forwarder.Restore, "cut");
    }

    [Fact]
    public async Task GetRecord_AzuriteFrozenUnderLoadThenThawed_Refuses503ThenServesAndEvery200IsAudited()
    {
        // Arrange: a private Azurite, stopped with SIGSTOP: connections are accepted and never answered.
        var azurite = await Azurite.StartPrivateAsync();
        try
        {
            // Act and assert
            await AssertOutageAsync(azurite.GatewaySettings(), azurite.Freeze, azurite.Thaw, "freeze");
        }
        finally
        {
            azurite.Stop();
        }
    }

    /// <summary>
    /// Clinicians read through one gateway while storage is taken away by <paramref name="takeAway"/> and given back by
    /// <paramref name="giveBack"/>: only 200s and 503s, every 503 during the outage an OperationOutcome about the audit log
    /// with no clinical data, every read after it served, and every 200 audited.
    /// </summary>
    private async Task AssertOutageAsync(Dictionary<string, string?> settings, Action takeAway, Action giveBack, string outage)
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        // Refuse within seconds rather than after the storage client's retries: the audit write, and the locator's read
        // and store, each get a second.
        settings["Audit:WriteTimeout"] = "00:00:01";
        settings["Locator:StorageTimeout"] = "00:00:01";
        settings["RateLimits:PerUserPerMinute"] = "100000";
        settings["RateLimits:PerOrganisationPerMinute"] = "1000000";
        using var host = new GatewayHost(_issuer, [_gp], settings: settings);
        var anonymous = host.CreateClient(token: null);
        // Load only once the gateway says it is ready, as a load balancer would: started at once, reads competed with
        // the profiles' compilation at start-up on a busy machine and a few timed out before the outage began.
        for (var attempt = 0; attempt < 600 && (await anonymous.GetAsync("/health/ready")).StatusCode != HttpStatusCode.OK; attempt++)
        {
            await Task.Delay(100);
        }

        var phase = Phase.Before;
        var answers = new ConcurrentQueue<Answer>();
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, Clients).Select(i => Task.Run(async () =>
        {
            using var client = host.CreateClient(_issuer.CreateToken(userId: $"clinician-{i}"));
            while (!stop.IsCancellationRequested)
            {
                var started = phase;
                var clock = Stopwatch.StartNew();
                using var response = await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");
                var body = await response.Content.ReadAsStringAsync();
                answers.Enqueue(new Answer(started, phase, response.StatusCode, response.RequestId(), body, clock.Elapsed));
            }
        })).ToList();

        var clock = Stopwatch.StartNew();
        await WaitForAsync(() => answers.Count(a => a.Status == HttpStatusCode.OK) >= 20, "20 reads served before the outage", load);
        var servedBefore = clock.Elapsed;
        takeAway();
        phase = Phase.Cut;
        await WaitForAsync(() => answers.Count(a => a.Started == Phase.Cut && a.Ended == Phase.Cut) >= 10, "10 reads answered during the outage", load);
        var readyDuringCut = (await anonymous.GetAsync("/health/ready")).StatusCode;
        giveBack();
        phase = Phase.Restored;
        var restored = Stopwatch.StartNew();
        await WaitForAsync(() => answers.Any(a => a.Started == Phase.Restored && a.Status == HttpStatusCode.OK), "a read served after the outage", load);
        var firstServedAfter = restored.Elapsed;
        var servedBeforeSettling = answers.Count;
        await WaitForAsync(() => answers.Skip(servedBeforeSettling).Count(a => a.Started == Phase.Restored) >= 20, "20 more reads after the outage", load);
        await stop.CancelAsync();
        await Task.WhenAll(load);
        var readyAfter = (await anonymous.GetAsync("/health/ready")).StatusCode;

        var all = answers.ToList();
        var during = all.Where(a => a.Started == Phase.Cut).ToList();
        output.WriteLine($"{outage}: first 20 reads served in {servedBefore.TotalSeconds:0.0} s; load ran {clock.Elapsed.TotalSeconds:0.0} s; "
            + $"{all.Count} answers: {all.Count(a => a.Status == HttpStatusCode.OK)} 200, {all.Count(a => a.Status == HttpStatusCode.ServiceUnavailable)} 503; "
            + $"{during.Count} started during the {outage} (slowest {during.Max(a => a.Took).TotalSeconds:0.00} s, median {during.Select(a => a.Took).Order().ElementAt(during.Count / 2).TotalSeconds:0.00} s); "
            + $"first 200 {firstServedAfter.TotalSeconds:0.00} s after it ended");
        Assert.All(all, a => Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{(int)a.Status}: {a.Body}"));
        Assert.All(all.Where(a => a.Ended == Phase.Before), a => Assert.Equal(HttpStatusCode.OK, a.Status));
        var refusals = all.Where(a => a.Started == Phase.Cut && a.Ended == Phase.Cut).ToList();
        Assert.All(refusals, a =>
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, a.Status);
            Assert.True(a.Took < RefusalBound, $"refused after {a.Took.TotalSeconds:0.0} s");
            var outcome = Assert.IsType<OperationOutcome>(JsonSerializer.Deserialize<Resource>(a.Body, FhirJson.Strict));
            Assert.Contains("audit log", outcome.Text(), StringComparison.Ordinal);
            Assert.Equal(a.RequestId, outcome.Id);
            Assert.DoesNotContain(Snomed, a.Body, StringComparison.Ordinal);
        });
        Assert.All(all.Skip(servedBeforeSettling).Where(a => a.Started == Phase.Restored), a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyDuringCut);
        Assert.Equal(HttpStatusCode.OK, readyAfter);

        // Every read a clinician saw served has its AuditEvent in storage, found by the correlation id on the answer.
        var audited = host.AuditEvents().Select(e => e.CorrelationId()).ToHashSet(StringComparer.Ordinal);
        var served = all.Where(a => a.Status == HttpStatusCode.OK).Select(a => a.RequestId).ToList();
        Assert.Equal(served.Count, served.Distinct(StringComparer.Ordinal).Count());
        var unaudited = served.Where(id => !audited.Contains(id)).ToList();
        Assert.True(unaudited.Count == 0, $"{unaudited.Count} of {served.Count} reads served 200 have no AuditEvent: {string.Join(", ", unaudited.Take(5))}");
        var auditor = host.CreateClient(_issuer.CreateToken(role: "Auditor"));
        var verification = await FhirAssert.OutcomeAsync(await auditor.GetAsync($"/audit/$verify?date={DateTime.UtcNow:yyyy-MM-dd}"), HttpStatusCode.OK);
        Assert.True(verification.Issue.Single().Severity == OperationOutcome.IssueSeverity.Information, verification.Text());
    }

    private static async Task WaitForAsync(Func<bool> condition, string what, IReadOnlyList<Task> load)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (load.FirstOrDefault(t => t.IsFaulted) is { } failed)
            {
                await failed;
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"Waited a minute for {what}.");
            await Task.Delay(20);
        }
    }

    public void Dispose()
    {
        _gp.Dispose();
        _issuer.Dispose();
    }
}
