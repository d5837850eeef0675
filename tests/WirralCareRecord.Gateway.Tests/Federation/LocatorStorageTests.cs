using System.Net;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Storage;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Federation;

/// <summary>
/// What the locator's storage must do on any blob store, as the registry's must: names that reveal no NHS number,
/// concurrent lessons from several instances all kept, claims that only one instance wins. Run against the local folder
/// and against Azurite.
/// </summary>
public abstract class LocatorStorageContract
{
    private const string Nhs = "9000000009";
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);

    protected abstract Task<IBlobStore> CreateStoreAsync();

    private static LocatorStore Instance(IBlobStore store, string key = LocatorOptions.DevelopmentNameKey) =>
        new(new OneStore(store), Options.Create(new LocatorOptions { NameKey = key }));

    private static Func<LocatorDocument?, LocatorDocument?> Learn(string ods, DateTimeOffset at, bool sweep = false) => current =>
        LocatorLearning.Apply(current, Nhs, new LocatorObservation(at, [ods], [], [ods], [], sweep, false), TimeSpan.FromDays(7)).Document;

    [Fact]
    public async Task An_entry_is_named_by_a_keyed_hash_that_never_shows_the_nhs_number()
    {
        var store = await CreateStoreAsync();
        var locator = Instance(store);
        var otherKey = Instance(store, new string('k', 40));

        await locator.UpdateAsync(locator.NameOf(Nhs), Learn("RBL", T0, sweep: true), default);

        var name = Assert.Single(await store.ListAsync("", default).ToListAsync());
        Assert.Equal(locator.NameOf(Nhs), name);
        Assert.Matches("^[0-9a-f]{64}\\.json$", name);
        Assert.DoesNotContain(Nhs, name, StringComparison.Ordinal);
        Assert.NotEqual(name, otherKey.NameOf(Nhs));
        Assert.Null(await otherKey.ReadAsync(Nhs, default));
        Assert.Equal(["RBL"], (await locator.ReadAsync(Nhs, default))!.Document.Holders.Select(h => h.OdsCode));
    }

    [Fact]
    public async Task Lessons_learned_at_once_on_two_instances_are_all_kept()
    {
        var store = await CreateStoreAsync();
        var a = Instance(store);
        var b = Instance(store);
        var codes = Enumerable.Range(1, 8).Select(i => $"N8500{i}").ToList();

        await Task.WhenAll(codes.Select((ods, i) => (i % 2 == 0 ? a : b).UpdateAsync(a.NameOf(Nhs), Learn(ods, T0.AddSeconds(i)), default)));

        var stored = await b.ReadAsync(Nhs, default);
        Assert.Equal(codes, stored!.Document.Holders.Select(h => h.OdsCode));
    }

    [Fact]
    public async Task A_sweep_claim_is_refused_when_the_entry_changed_since_it_was_read()
    {
        var store = await CreateStoreAsync();
        var a = Instance(store);
        var b = Instance(store);
        await a.UpdateAsync(a.NameOf(Nhs), Learn("RBL", T0, sweep: true), default);
        var seenByA = (await a.ReadAsync(Nhs, default))!;
        var seenByB = (await b.ReadAsync(Nhs, default))!;

        await b.WriteClaimAsync(b.NameOf(Nhs), seenByB, T0.AddDays(8), default);

        await Assert.ThrowsAsync<StorageConflictException>(() => a.WriteClaimAsync(a.NameOf(Nhs), seenByA, T0.AddDays(8), default));
        Assert.Equal(T0.AddDays(8), (await a.ReadAsync(Nhs, default))!.Document.SweepClaimedAt);
    }

    [Fact]
    public async Task A_change_that_learns_nothing_writes_nothing()
    {
        var store = await CreateStoreAsync();
        var locator = Instance(store);

        var result = await locator.UpdateAsync(locator.NameOf(Nhs), _ => null, default);

        Assert.Null(result);
        Assert.Empty(await store.ListAsync("", default).ToListAsync());
    }

}

public sealed class LocalLocatorStorageTests : LocatorStorageContract
{
    protected override Task<IBlobStore> CreateStoreAsync() =>
        Task.FromResult<IBlobStore>(new LocalFolderBlobStore(Directory.CreateTempSubdirectory("wcr-locator-store-").FullName));
}

public sealed class AzureLocatorStorageTests : LocatorStorageContract
{
    protected override async Task<IBlobStore> CreateStoreAsync() =>
        new AzureBlobStore((await Azurite.InstanceAsync()).Client().GetBlobContainerClient(Azurite.NewPrefix() + "locator"));
}

/// <summary>Two gateway instances on one Azurite account share what the locator learns.</summary>
public sealed class LocatorAcrossInstancesTests : IDisposable
{
    private const string Nhs = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _registeredGp = new("N85002", "Hoylake Road Surgery", OrganisationKind.GpPractice);
    private readonly FhirSource _otherGp = new("N85003", "Moreton Health Clinic", OrganisationKind.GpPractice);
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);

    [Fact]
    public async Task A_read_on_one_instance_narrows_the_next_read_on_another()
    {
        _registeredGp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Encounter("e1", "pas-1"));
        var settings = (await Azurite.InstanceAsync()).GatewaySettings();
        using var first = new GatewayHost(_issuer, [_registeredGp, _otherGp, _acute], settings: settings);
        using var second = new GatewayHost(_issuer, [_registeredGp, _otherGp, _acute], settings: settings);

        var learned = await FhirAssert.ReadAsync<Bundle>(await first.CreateClient(_issuer.CreateToken()).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}"), HttpStatusCode.OK);
        var otherGpCalls = _otherGp.DataRequests.Count;
        var narrowed = await FhirAssert.ReadAsync<Bundle>(await second.CreateClient(_issuer.CreateToken()).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}"), HttpStatusCode.OK);

        Assert.Contains(learned.SourceOutcomes()!.Issue, i => i.Diagnostics.Contains("knew no organisation", StringComparison.Ordinal));
        Assert.Contains(narrowed.SourceOutcomes()!.Issue, i => i.Diagnostics.Contains("The record locator chose which organisations to ask: 2 of the 3", StringComparison.Ordinal));
        Assert.Equal(otherGpCalls, _otherGp.DataRequests.Count);
        Assert.Equal(2, narrowed.Entry.Count(e => e.Resource is Provenance));
    }

    public void Dispose()
    {
        _registeredGp.Dispose();
        _otherGp.Dispose();
        _acute.Dispose();
        _issuer.Dispose();
    }
}
