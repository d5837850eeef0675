using Hl7.Fhir.Model;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Storage;
using WirralCareRecord.Gateway.SourceAnswers;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Federation;

/// <summary>A warm read of a well-known patient costs the locator one blob read and no write: it runs on every record read.</summary>
public sealed class LocatorWarmReadTests
{
    private const string Nhs = "9000000009";
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task LearnAsync_WarmReadThatTeachesNothing_ReadsTheEntryOnceAndWritesNothing()
    {
        var (locator, store, time) = Locator();
        var gp = Grant("N85001");
        var otherGp = Grant("N85002");
        var plan = await locator.PlanAsync([gp, otherGp], "Y00001", Nhs, sweep: false, "c1", default);
        await locator.LearnAsync(Nhs, plan, [Returned(gp), NoMatch(otherGp)], "c1", default);
        time.Offset += TimeSpan.FromMinutes(5);
        var (readsBefore, writesBefore) = (store.Reads, store.Writes);

        var warm = await locator.PlanAsync([gp, otherGp], "Y00001", Nhs, sweep: false, "c2", default);
        var learned = await locator.LearnAsync(Nhs, warm, [Returned(gp)], "c2", default);

        Assert.Equal(SourceSelection.Locator, warm.Selection);
        Assert.Equal(["N85001"], warm.Asked.Select(g => g.Source.OdsCode));
        Assert.Equal(1, store.Reads - readsBefore);
        Assert.Equal(0, store.Writes - writesBefore);
        Assert.Equal(["N85001"], learned!.Holders.Select(h => h.OdsCode));
    }

    [Fact]
    public async Task LearnAsync_WarmReadThatTeachesSomething_StoresTheLesson()
    {
        var (locator, store, time) = Locator();
        var gp = Grant("N85001");
        var acute = Grant("RBL", OrganisationKind.AcuteTrust);
        var plan = await locator.PlanAsync([gp, acute], "Y00001", Nhs, sweep: false, "c1", default);
        await locator.LearnAsync(Nhs, plan, [Returned(gp), NoMatch(acute)], "c1", default);
        time.Offset += TimeSpan.FromMinutes(5);
        var writesBefore = store.Writes;

        // The acute trust is always asked; now it holds the patient too.
        var warm = await locator.PlanAsync([gp, acute], "Y00001", Nhs, sweep: false, "c2", default);
        var learned = await locator.LearnAsync(Nhs, warm, [Returned(gp), Returned(acute)], "c2", default);

        Assert.Equal(1, store.Writes - writesBefore);
        Assert.Equal(["N85001", "RBL"], learned!.Holders.Select(h => h.OdsCode));
    }

    private static (RecordLocator Locator, CountingStore Store, ShiftedTimeProvider Time) Locator()
    {
        var store = new CountingStore(new LocalFolderBlobStore(Directory.CreateTempSubdirectory("wcr-locator-warm-").FullName));
        var options = Options.Create(new LocatorOptions { NameKey = LocatorOptions.DevelopmentNameKey });
        var time = new ShiftedTimeProvider { Offset = T0 - TimeProvider.System.GetUtcNow() };
        var locator = new RecordLocator(
            new LocatorStore(new OneStore(store), options),
            new DemographicsService(new NoClients(), options, new Gateway.SourceAnswers.SourceBufferPool(1024 * 1024, TimeSpan.Zero), NullLogger<DemographicsService>.Instance),
            options,
            time,
            NullLogger<RecordLocator>.Instance);
        return (locator, store, time);
    }

    private static SourceGrant Grant(string ods, OrganisationKind kind = OrganisationKind.GpPractice) =>
        new(new Organisation(ods, ods, kind, new Uri($"https://{ods.ToLowerInvariant()}.example/fhir"), 1, LifecycleState.Live), new HashSet<string>(), ["WCR-DSA-TEST"]);

    private static SourceResult Returned(SourceGrant grant) =>
        new(grant, SourceOutcome.Returned, new Patient { Id = "p1" }, KeptResources.None, T0, null, 0, 1);

    private static SourceResult NoMatch(SourceGrant grant) =>
        new(grant, SourceOutcome.NoMatch, null, KeptResources.None, T0, "holds no such patient", 0, 1);


    private sealed class NoClients : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => throw new InvalidOperationException("No demographics service is configured in this test.");
    }

    /// <summary>Counts what reaches storage; everything else is the real local store's.</summary>
    private sealed class CountingStore(IBlobStore inner) : DelegatingBlobStore(inner)
    {
        public int Reads { get; private set; }

        public int Writes { get; private set; }

        public override Task<StoredBlob?> ReadAsync(string name, CancellationToken cancellationToken)
        {
            Reads++;
            return base.ReadAsync(name, cancellationToken);
        }

        public override Task<string> WriteAsync(string name, BinaryData content, string? expectedETag, string contentType, CancellationToken cancellationToken)
        {
            Writes++;
            return base.WriteAsync(name, content, expectedETag, contentType, cancellationToken);
        }
    }
}
