using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Storage;
using WirralCareRecord.Gateway.Tests.Common;
using Xunit.Abstractions;

namespace WirralCareRecord.Gateway.Tests.Onboarding;

/// <summary>
/// What the managed registry must do on any storage: seed once, never lose a change to a concurrent writer, and let
/// every instance see every other's changes. Run against the local folder and against Azurite.
/// </summary>
public abstract class RegistryStorageContract : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("wcr-registry-");

    protected abstract Task<IBlobStore> CreateStoreAsync();

    private string SeedFile()
    {
        var seed = GatewayHost.DefaultRegistry([]);
        var path = Path.Combine(_folder.FullName, $"seed-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(seed, RegistryDocument.JsonOptions));
        return path;
    }

    private static ManagedOrganisationRegistry Instance(IBlobStore store, string? seedPath)
    {
        var environment = new HostingEnvironment { EnvironmentName = Environments.Development, ContentRootPath = Path.GetTempPath() };
        var options = Options.Create(new RegistryOptions { SeedPath = seedPath });
        return new ManagedOrganisationRegistry(new OneStore(store), options, environment, new SourceConnectionRule(environment, options), NullLogger<ManagedOrganisationRegistry>.Instance);
    }

    private static RegistrySnapshot Rename(RegistrySnapshot registry, string odsCode, string name) =>
        registry.With(registry.Find(odsCode)! with { Name = name }, new RegistryChange($"Organization/{odsCode}", "details updated", DateTimeOffset.UtcNow, "test", "rename"));

    private static RegistrySnapshot Register(RegistrySnapshot registry, string odsCode) =>
        registry.With(
            new Organisation(odsCode, "Practice " + odsCode, OrganisationKind.GpPractice, new Uri($"https://{odsCode.ToLowerInvariant()}.example.nhs.uk/fhir"), 1, LifecycleState.Registered),
            new RegistryChange($"Organization/{odsCode}", "registered", DateTimeOffset.UtcNow, "test", "register"));

    [Fact]
    public async Task An_empty_store_is_seeded_once_and_later_instances_read_what_is_stored()
    {
        var store = await CreateStoreAsync();
        using var first = Instance(store, SeedFile());
        await first.UpdateAsync(r => Register(r, "N85050"), null, default);

        using var second = Instance(store, SeedFile());

        Assert.NotNull(second.Current.Find("N85050"));
        Assert.Equal(first.Current.Organisations.Select(o => o.OdsCode), second.Current.Organisations.Select(o => o.OdsCode));
    }

    [Fact]
    public async Task Concurrent_changes_from_two_instances_are_both_kept()
    {
        var store = await CreateStoreAsync();
        using var a = Instance(store, SeedFile());
        using var b = Instance(store, null);

        await Task.WhenAll(
            Enumerable.Range(0, 4).Select(i => a.UpdateAsync(r => Register(r, $"A8500{i}"), null, default))
                .Concat(Enumerable.Range(0, 4).Select(i => b.UpdateAsync(r => Register(r, $"B8500{i}"), null, default))));
        await a.RefreshAsync(default);

        Assert.Equal(8, a.Current.Organisations.Count(o => o.OdsCode.StartsWith("A850", StringComparison.Ordinal) || o.OdsCode.StartsWith("B850", StringComparison.Ordinal)));
        Assert.Equal(8, a.Current.History.Count);
    }

    [Fact]
    public async Task A_change_on_one_instance_reaches_another_on_refresh_and_fires_its_change_token()
    {
        var store = await CreateStoreAsync();
        using var a = Instance(store, SeedFile());
        using var b = Instance(store, null);
        var token = b.GetChangeToken();

        await a.UpdateAsync(r => Rename(r, "N85001", "Riverside Medical Centre"), null, default);
        Assert.False(token.HasChanged);
        await b.RefreshAsync(default);

        Assert.True(token.HasChanged);
        Assert.Equal("Riverside Medical Centre", b.Current.Find("N85001")!.Name);
        Assert.Equal(2, b.Current.Find("N85001")!.Revision);
    }

    [Fact]
    public async Task A_poll_that_read_before_this_instance_changed_the_registry_never_publishes_the_older_one_after_it()
    {
        var store = new HeldRead(await CreateStoreAsync());
        using var a = Instance(store, SeedFile());
        using var b = Instance(store, null);
        // Another instance's change, so that a's next poll reads the registry.
        await b.UpdateAsync(r => Rename(r, "N85001", "Riverside Medical Centre"), null, default);

        // a's poll has read that registry and is held with it in hand while a makes its own change.
        store.HoldNextRead();
        var poll = a.RefreshAsync(default);
        await store.Holding.Task;
        var change = a.UpdateAsync(r => Rename(r, "N85001", "Riverside Surgery"), null, default);
        await Task.WhenAny(change, Task.Delay(500));
        store.Release();
        await Task.WhenAll(poll, change);

        Assert.Equal("Riverside Surgery", a.Current.Find("N85001")!.Name);
        await a.RefreshAsync(default);
        Assert.Equal("Riverside Surgery", a.Current.Find("N85001")!.Name);
    }

    [Fact]
    public async Task A_refusal_inside_a_change_stores_nothing()
    {
        var store = await CreateStoreAsync();
        using var registry = Instance(store, SeedFile());
        var before = await store.GetETagAsync(ManagedOrganisationRegistry.BlobName, default);

        await Assert.ThrowsAsync<RegistryRefusal>(() => registry.UpdateAsync(_ => throw RegistryRefusal.Conflict(["no"]), null, default));

        Assert.Equal(before, await store.GetETagAsync(ManagedOrganisationRegistry.BlobName, default));
    }

    public void Dispose()
    {
        _folder.Delete(recursive: true);
        GC.SuppressFinalize(this);
    }

}

/// <summary>A store whose next read, once asked for, returns what it read only when the test releases it.</summary>
internal sealed class HeldRead(IBlobStore inner) : DelegatingBlobStore(inner)
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _armed;

    /// <summary>Completes once the held read has read the blob and is waiting.</summary>
    public TaskCompletionSource Holding { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void HoldNextRead() => Volatile.Write(ref _armed, 1);

    public void Release() => _release.TrySetResult();

    public override async Task<StoredBlob?> ReadAsync(string name, CancellationToken cancellationToken)
    {
        var blob = await base.ReadAsync(name, cancellationToken);
        if (Interlocked.Exchange(ref _armed, 0) == 1)
        {
            Holding.TrySetResult();
            await _release.Task;
        }

        return blob;
    }
}

public sealed class LocalRegistryStorageTests : RegistryStorageContract
{
    protected override Task<IBlobStore> CreateStoreAsync() =>
        Task.FromResult<IBlobStore>(new LocalFolderBlobStore(Directory.CreateTempSubdirectory("wcr-registry-store-").FullName));
}

public sealed class AzureRegistryStorageTests : RegistryStorageContract
{
    protected override async Task<IBlobStore> CreateStoreAsync() =>
        new AzureBlobStore((await Azurite.InstanceAsync()).Client().GetBlobContainerClient(Azurite.NewPrefix() + "registry"));
}

/// <summary>Two gateway instances sharing one Azurite account, as two App Service instances share a storage account.</summary>
public sealed class RegistryAcrossInstancesTests : IDisposable
{
    private const string Nhs = "9000000009";

    /// <summary>Beyond the poll interval: the poll's own storage read, and a shared machine.</summary>
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(3);
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);

    private readonly ITestOutputHelper _output;

    public RegistryAcrossInstancesTests(ITestOutputHelper output)
    {
        _output = output;
        _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Encounter("e1", "pas-1"));
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
    }

    [Fact]
    public async Task Suspending_a_source_on_one_instance_stops_it_on_the_other_within_the_poll_interval()
    {
        var azurite = await Azurite.InstanceAsync();
        var settings = azurite.GatewaySettings();
        settings["Registry:PollInterval"] = "00:00:00.200";
        using var first = new GatewayHost(_issuer, [_acute, _gp], settings: settings);
        using var second = new GatewayHost(_issuer, [_acute, _gp], settings: settings);
        var clinician = second.CreateClient(_issuer.CreateToken());
        Assert.Equal(["N85001", "RBL"], await SourcesAsync(clinician));

        await first.CreateClient(_issuer.CreateToken(role: "OnboardingAdmin", ods: "X26"))
            .TransitionAsync("RBL", LifecycleState.Suspended, "Supplier incident").ExpectAsync<OrganisationView>(HttpStatusCode.OK);

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (second.Services.GetService(typeof(IOrganisationRegistry)) is IOrganisationRegistry registry
            && registry.Current.Find("RBL")!.State != LifecycleState.Suspended)
        {
            Assert.True(DateTime.UtcNow < deadline, "The second instance did not see the suspension.");
            await Task.Delay(50);
        }

        Assert.Equal(["N85001"], await SourcesAsync(clinician));
        using var route = await clinician.GetAsync("/sources/RBL/fhir/Encounter/e1");
        Assert.NotEqual(HttpStatusCode.OK, route.StatusCode);
    }

    [Fact]
    public async Task Suspension_OnOneInstanceWhileBothServeReads_OtherStopsAskingTheSourceWithinThePollInterval()
    {
        // Arrange: two instances on one Azurite account, each read by clinicians without pause.
        var azurite = await Azurite.InstanceAsync();
        var settings = azurite.GatewaySettings();
        settings["Registry:PollInterval"] = "00:00:00.500";
        settings["RateLimits:PerUserPerMinute"] = "100000";
        settings["RateLimits:PerOrganisationPerMinute"] = "1000000";
        using var first = new GatewayHost(_issuer, [_acute, _gp], settings: new(settings) { ["Audit:InstanceId"] = "gw-a" });
        using var second = new GatewayHost(_issuer, [_acute, _gp], settings: new(settings) { ["Audit:InstanceId"] = "gw-b" });
        var clock = Stopwatch.StartNew();
        var answers = new ConcurrentQueue<(string Host, TimeSpan Started, TimeSpan Ended, HttpStatusCode Status, bool FromRbl)>();
        using var stop = new CancellationTokenSource();
        var load = new[] { ("a", first), ("b", second) }.SelectMany(h => Enumerable.Range(0, 3).Select(i => Task.Run(async () =>
        {
            using var clinician = h.Item2.CreateClient(_issuer.CreateToken(userId: $"clinician-{h.Item1}-{i}"));
            while (!stop.IsCancellationRequested)
            {
                var started = clock.Elapsed;
                using var response = await clinician.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");
                var body = await response.Content.ReadAsStringAsync();
                var fromRbl = response.StatusCode == HttpStatusCode.OK && JsonSerializer.Deserialize<Resource>(body, FhirJson.Strict) is Bundle bundle
                    && bundle.Entry.Any(e => e.Resource is Encounter { Id: "e1" });
                answers.Enqueue((h.Item1, started, clock.Elapsed, response.StatusCode, fromRbl));
            }
        }))).ToList();
        while (answers.Count(a => a.Host == "b" && a.FromRbl) < 10 || answers.Count(a => a.Host == "a" && a.FromRbl) < 10)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60) && !load.Any(t => t.IsFaulted), "The instances did not serve the hospital's data under load.");
            await Task.Delay(20);
        }

        // Act
        var requested = clock.Elapsed;
        await first.CreateClient(_issuer.CreateToken(role: "OnboardingAdmin", ods: "X26"))
            .TransitionAsync("RBL", LifecycleState.Suspended, "Supplier incident").ExpectAsync<OrganisationView>(HttpStatusCode.OK);
        var committed = clock.Elapsed;
        var bound = committed + TimeSpan.FromMilliseconds(500) + Margin;
        while (answers.Count(a => a.Host == "b" && a.Started > bound) < 10)
        {
            Assert.True(clock.Elapsed < bound + TimeSpan.FromSeconds(60) && !load.Any(t => t.IsFaulted), "The second instance stopped answering.");
            await Task.Delay(20);
        }

        await stop.CancelAsync();
        await Task.WhenAll(load);

        // Assert: no read failed; the first instance stopped at once, the second within its poll interval, and neither went back.
        var all = answers.ToList();
        Assert.All(all, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.DoesNotContain(all, a => a.Host == "a" && a.Started > committed && a.FromRbl);
        var lastFromRblOnB = all.Where(a => a.Host == "b" && a.FromRbl).Max(a => a.Ended);
        _output.WriteLine($"{all.Count} reads; the second instance last served the suspended source {(lastFromRblOnB - requested).TotalSeconds:0.00} s after the suspension was asked for on the first, which took {(committed - requested).TotalSeconds:0.00} s to answer (poll interval 0.5 s)");
        Assert.True(lastFromRblOnB < bound, $"the second instance served the suspended source's data {(lastFromRblOnB - committed).TotalSeconds:0.00} s after the suspension");
        Assert.DoesNotContain(all, a => a.Host == "b" && a.Started > bound && a.FromRbl);
    }

    private static async Task<IReadOnlyList<string>> SourcesAsync(HttpClient clinician)
    {
        var bundle = await FhirAssert.ReadAsync<Bundle>(await clinician.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}"), HttpStatusCode.OK);
        return [.. bundle.Entry.Select(e => e.Resource).OfType<Provenance>().Select(p => p.Agent.Single().Who.Identifier.Value!).Order()];
    }

    public void Dispose()
    {
        _acute.Dispose();
        _gp.Dispose();
        _issuer.Dispose();
    }
}
