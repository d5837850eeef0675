using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;
using Xunit.Abstractions;

namespace WirralCareRecord.Gateway.Tests.Resilience;

/// <summary>
/// A gateway process killed outright (SIGKILL) while clinicians are reading: no answer it gave goes unaudited, and the
/// log it leaves behind verifies once a gateway is started again on the same storage.
/// </summary>
public sealed class CrashTests(ITestOutputHelper output) : IDisposable
{
    private const string Nhs = "9000000009";
    private const string Instance = "gw-crash";
    private const int Clients = 8;
    private const int Rounds = 2;
    private const int ServedPerRound = 100;
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("wcr-crash-");

    [Fact]
    public async Task GatewayProcess_KilledUnderLoadTwice_EveryServedReadIsAuditedAndTheLogVerifiesAfterRestart()
    {
        // Arrange: the gateway as its own process on a local storage folder, and clinicians reading through it.
        // One call per read (_revinclude), so the load is on the gateway and its audit log rather than on WireMock.
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"))
            .WithCapabilityStatement(FederationOptions.DefaultRecordTypes, FederationOptions.DefaultRecordTypes, batch: false)
            .ServingRevInclude();
        var storage = Path.Combine(_folder.FullName, "storage");
        var seed = Path.Combine(_folder.FullName, "registry.json");
        await File.WriteAllTextAsync(seed, JsonSerializer.Serialize(GatewayHost.DefaultRegistry([_gp]), RegistryDocument.JsonOptions));
        var settings = new Dictionary<string, string?>
        {
            ["Registry:SeedPath"] = seed,
            ["Storage:Kind"] = "Local",
            ["Storage:LocalFolder"] = storage,
            ["Audit:InstanceId"] = Instance,
            ["RateLimits:PerUserPerMinute"] = "100000",
            ["RateLimits:PerOrganisationPerMinute"] = "1000000",
            // Record reads never need the profiles; compiling them would only take CPU from the load.
            ["Validation:WarmUp"] = "false",
            // The machine is shared: a source slowed by someone else's build must not open its breaker mid-test.
            ["Federation:SourceTimeout"] = "00:00:20",
            ["Federation:BreakerMinimumThroughput"] = "1000",
        };
        var served = new ConcurrentQueue<string>();
        var otherAnswers = new ConcurrentQueue<string>();

        // Act: start, load, kill; twice, the second process on what the one before left behind.
        for (var round = 1; round <= Rounds; round++)
        {
            await KillUnderLoadAsync(settings, round * ServedPerRound, served, otherAnswers);
        }

        // Assert: every read answered 200 has its AuditEvent, found by the correlation id the answer carried.
        var log = StoredLog(storage);
        var audited = log.Events.Select(e => e.Event.CorrelationId()).ToHashSet(StringComparer.Ordinal);
        var seen = served.ToList();
        output.WriteLine($"{seen.Count} reads served over {Rounds} processes; {log.Events.Count} events stored in {log.Blobs.Count} blob(s), "
            + $"{log.Events.Count - seen.Count} more than were seen served; {log.TornTails} torn last line(s), {log.UnreadableLines} other unreadable line(s); "
            + $"{otherAnswers.Count} answered 502");
        // A read the source could not answer in time is a 502, audited like any other; nothing else may be answered.
        Assert.True(otherAnswers.All(a => a.StartsWith("502", StringComparison.Ordinal)), $"{otherAnswers.Count} reads not served: {string.Join(" | ", otherAnswers.Take(2))}");
        Assert.Equal(seen.Count, seen.Distinct(StringComparer.Ordinal).Count());
        var unaudited = seen.Where(id => !audited.Contains(id)).ToList();
        Assert.True(unaudited.Count == 0, $"{unaudited.Count} of {seen.Count} reads served 200 have no AuditEvent: {string.Join(", ", unaudited.Take(5))}");
        Assert.Equal(0, log.UnreadableLines);
        // Each process claimed a part of its own rather than continue a chain a killed one left.
        Assert.True(log.Blobs.Count >= Rounds, $"{log.Blobs.Count} blob(s) after {Rounds} processes");

        // A gateway started again with the same instance id writes on, in a part of its own, and the log verifies.
        using var restarted = new GatewayHost(_issuer, [_gp], settings: new()
        {
            ["Storage:LocalFolder"] = storage,
            ["Audit:InstanceId"] = Instance,
        });
        var afterRestart = await restarted.CreateClient(_issuer.CreateToken()).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");
        Assert.Equal(HttpStatusCode.OK, afterRestart.StatusCode);
        var relog = StoredLog(storage);
        var restartBlob = Assert.Single(relog.Events, e => e.Event.CorrelationId() == afterRestart.RequestId()).Blob;
        Assert.DoesNotContain(log.Events, e => e.Blob == restartBlob);
        var auditor = restarted.CreateClient(_issuer.CreateToken(role: "Auditor"));
        foreach (var day in relog.Events.Select(e => e.Event.Recorded!.Value.UtcDateTime.Date).Distinct())
        {
            var verification = await FhirAssert.OutcomeAsync(await auditor.GetAsync($"/audit/$verify?date={day:yyyy-MM-dd}"), HttpStatusCode.OK);
            output.WriteLine(verification.Text());
            Assert.NotEqual(OperationOutcome.IssueSeverity.Error, verification.Issue[0].Severity);
            Assert.DoesNotContain(verification.Issue, i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal);
        }
    }

    /// <summary>One gateway process: started, read by <see cref="Clients"/> clinicians at once, and killed once <paramref name="servedTarget"/> reads in all have been served.</summary>
    private async Task KillUnderLoadAsync(Dictionary<string, string?> settings, int servedTarget, ConcurrentQueue<string> served, ConcurrentQueue<string> otherAnswers)
    {
        var clock = Stopwatch.StartNew();
        using var gateway = await GatewayProcess.StartAsync(settings);
        var started = clock.Elapsed;
        var clients = await Task.WhenAll(Enumerable.Range(0, Clients).Select(i => gateway.ClientAsync(user: $"clinician-{i}")));
        var killed = false;
        var load = clients.Select(client => Task.Run(async () =>
        {
            while (true)
            {
                try
                {
                    using var response = await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");
                    var body = await response.Content.ReadAsStringAsync();
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        // Only a complete answer counts as seen, as a client would only show a complete one.
                        Assert.IsType<Bundle>(JsonSerializer.Deserialize<Resource>(body, FhirJson.Strict));
                        served.Enqueue(response.RequestId());
                    }
                    else
                    {
                        otherAnswers.Enqueue($"{(int)response.StatusCode}: {body}");
                    }
                }
                catch (Exception ex) when (Volatile.Read(ref killed) && ex is HttpRequestException or TaskCanceledException or IOException or JsonException)
                {
                    return;
                }
            }
        })).ToList();

        var loading = Stopwatch.StartNew();
        while (served.Count < servedTarget)
        {
            Assert.True(loading.Elapsed < TimeSpan.FromSeconds(60) && !load.Any(t => t.IsFaulted), $"{served.Count} reads served; {string.Join(" | ", otherAnswers.Take(3))}\n{Tail(gateway.Output)}");
            await Task.Delay(5);
        }

        Volatile.Write(ref killed, true);
        gateway.Kill();
        await Task.WhenAll(load);
        foreach (var client in clients)
        {
            client.Dispose();
        }

        output.WriteLine($"process {gateway.Id}: started in {started.TotalSeconds:0.0} s, killed after {loading.Elapsed.TotalSeconds:0.0} s of load ({served.Count} served in all)");
    }

    private static string Tail(string text) => text.Length <= 4000 ? text : text[^4000..];

    private sealed record StoredEvent(string Blob, AuditEvent Event);

    private sealed record Log(IReadOnlyList<string> Blobs, IReadOnlyList<StoredEvent> Events, int TornTails, int UnreadableLines);

    /// <summary>
    /// The audit log as the killed process left it on disk, read file by file. A last line without its newline is an
    /// append the kill cut short: no request was answered on it, so it is counted apart from damage anywhere else.
    /// </summary>
    private static Log StoredLog(string storage)
    {
        var blobs = Directory.EnumerateFiles(Path.Combine(storage, "wcr-audit"), "*.ndjson", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        var events = new List<StoredEvent>();
        var torn = 0;
        var unreadable = 0;
        foreach (var blob in blobs)
        {
            var text = File.ReadAllText(blob);
            var lines = text.Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i].Length == 0)
                {
                    continue;
                }

                try
                {
                    events.Add(new StoredEvent(blob, JsonSerializer.Deserialize<AuditEvent>(lines[i], FhirJson.Strict)!));
                }
                catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
                {
                    if (i == lines.Length - 1)
                    {
                        torn++;
                    }
                    else
                    {
                        unreadable++;
                    }
                }
            }
        }

        return new Log(blobs, events, torn, unreadable);
    }

    public void Dispose()
    {
        _gp.Dispose();
        _issuer.Dispose();
        try
        {
            _folder.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A file still open on a slow machine; the OS cleans temp folders.
        }
    }
}
