using System.Net;
using Hl7.Fhir.Model;
using Microsoft.Extensions.DependencyInjection;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.PatientMatching;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Federation;

/// <summary>
/// The record locator on a running gateway: the first read asks everyone and learns who holds the patient, later reads ask
/// only those, the trusts and the caller's own organisation, and the Bundle and the audit say how the sources were chosen.
/// </summary>
public sealed class RecordLocatorTests : IDisposable
{
    private const string Nhs = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _registeredGp = new("N85002", "Hoylake Road Surgery", OrganisationKind.GpPractice);
    private readonly FhirSource _otherGp = new("N85003", "Moreton Health Clinic", OrganisationKind.GpPractice);
    private readonly FhirSource _thirdGp = new("N85004", "Greasby Group Practice", OrganisationKind.GpPractice);
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);
    private readonly FhirSource _community = new("RY7", "Wirral Community Health and Care", OrganisationKind.CommunityTrust);

    public RecordLocatorTests()
    {
        _registeredGp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Encounter("e1", "pas-1"));
    }

    private FhirSource[] All => [_registeredGp, _otherGp, _thirdGp, _acute, _community];

    private GatewayHost Host(Action<RegistryDocument>? editRegistry = null) => new(_issuer, All, editRegistry);

    private async Task<Bundle> ReadAsync(GatewayHost host, string query = "", string ods = "N85001")
    {
        var response = await host.CreateClient(_issuer.CreateToken(ods: ods)).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}{query}");
        return await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
    }

    private static string[] Contributors(Bundle bundle) =>
        [.. bundle.Entry.Select(e => e.Resource).OfType<Provenance>().Select(p => p.Agent.Single().Who.Identifier.Value!).Order(StringComparer.Ordinal)];

    private static string HowChosen(Bundle bundle) =>
        Assert.Single(bundle.SourceOutcomes()!.Issue, i => i.Code == OperationOutcome.IssueType.Informational && i.Diagnostics.Contains("sharing records with you", StringComparison.Ordinal)).Diagnostics!;

    /// <summary>Which sources received any data request since <paramref name="before"/> (their request counts then).</summary>
    private string[] AskedSince(Dictionary<string, int> before) =>
        [.. All.Where(s => s.DataRequests.Count > before[s.OdsCode]).Select(s => s.OdsCode).Order(StringComparer.Ordinal)];

    private Dictionary<string, int> Counts() => All.ToDictionary(s => s.OdsCode, s => s.DataRequests.Count);

    [Fact]
    public async Task GetRecord_FirstRead_AsksEverySourceAndSaysSo()
    {
        using var host = Host();

        var bundle = await ReadAsync(host);

        Assert.Equal(["N85002", "RBL"], Contributors(bundle));
        Assert.All(All, s => Assert.NotEmpty(s.DataRequests));
        Assert.Contains("knew no organisation holding this patient's record, so every organisation sharing records with you (5) was asked", HowChosen(bundle), StringComparison.Ordinal);
        Assert.Contains("no record locator entry, so a sweep: all 5 sources", host.AuditEvents().Single().Entity.Single(e => e.Role?.Code == "24").Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRecord_WarmRead_AsksOnlyTheHoldersAndTheTrustsAndSaysWhenTheLocatorWasRefreshed()
    {
        using var host = Host();
        await ReadAsync(host);
        var before = Counts();

        var bundle = await ReadAsync(host);

        Assert.Equal(["N85002", "RBL", "RY7"], AskedSince(before));
        Assert.Equal(["N85002", "RBL"], Contributors(bundle));
        var notice = HowChosen(bundle);
        Assert.Contains("The record locator chose which organisations to ask: 3 of the 5 sharing records with you", notice, StringComparison.Ordinal);
        Assert.Contains("Every organisation was last asked about this patient on ", notice, StringComparison.Ordinal);
        Assert.Contains("(UK time)", notice, StringComparison.Ordinal);
        Assert.Contains("sweep=true", notice, StringComparison.Ordinal);
        var audit = host.AuditEvents()[1];
        Assert.Contains("sources chosen by the record locator: 3 of 5", audit.Entity.Single(e => e.Role?.Code == "24").Description, StringComparison.Ordinal);
        Assert.Equal(["N85002", "RBL", "RY7"], audit.Entity.Where(e => e.Role?.Code == "3").Select(e => e.What.Identifier.Value).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task GetRecord_PracticeNewlyRegisteringThePatient_IsFoundByASweepAndAskedFromThenOn()
    {
        using var host = Host();
        await ReadAsync(host);
        _otherGp.WithPatient(FhirSource.NewPatient("mo-9", Nhs), ClinicalData.Condition("c9", "mo-9", "22298006", "Myocardial infarction"));

        var warm = await ReadAsync(host);
        var swept = await ReadAsync(host, "&_sweep=true");
        var before = Counts();
        var after = await ReadAsync(host);

        Assert.Equal(["N85002", "RBL"], Contributors(warm));
        Assert.Equal(["N85002", "N85003", "RBL"], Contributors(swept));
        Assert.Contains("as a full sweep was requested", HowChosen(swept), StringComparison.Ordinal);
        Assert.Contains("full sweep requested by the caller: all 5 sources", host.AuditEvents()[2].Entity.Single(e => e.Role?.Code == "24").Description, StringComparison.Ordinal);
        Assert.Equal(["N85002", "N85003", "RBL", "RY7"], AskedSince(before));
        Assert.Equal(["N85002", "N85003", "RBL"], Contributors(after));
    }

    [Fact]
    public async Task GetRecord_SourceThatStopsKnowingThePatient_IsDroppedAfterItSaysSo()
    {
        using var host = Host();
        await ReadAsync(host);
        _registeredGp.Forgetting(Nhs);

        var saysSo = await ReadAsync(host);
        var before = Counts();
        await ReadAsync(host);

        Assert.Contains(saysSo.SourceIssues(), i => i.Details.Coding.Single().Code == "no-match" && i.Location.Single().EndsWith("|N85002", StringComparison.Ordinal));
        Assert.Equal(["RBL", "RY7"], AskedSince(before));
    }

    [Fact]
    public async Task GetRecord_PracticeNamedAsTheGpByAnotherSource_IsAskedOnTheNextRead()
    {
        using var host = Host();
        await ReadAsync(host);
        // The patient registers at N85003, which the hospital's record now names as the GP; no sweep is asked for.
        _otherGp.WithPatient(FhirSource.NewPatient("mo-9", Nhs), ClinicalData.Condition("c9", "mo-9", "22298006", "Myocardial infarction"));
        var hospitalPatient = FhirSource.NewPatient("pas-1", Nhs);
        hospitalPatient.GeneralPractitioner = [new ResourceReference { Identifier = new Identifier(OdsCode.System, "N85003") }];
        _acute.WithPatient(hospitalPatient, ClinicalData.Encounter("e1", "pas-1"));

        var learns = await ReadAsync(host);
        var finds = await ReadAsync(host);

        Assert.Equal(["N85002", "RBL"], Contributors(learns));
        Assert.Equal(["N85002", "N85003", "RBL"], Contributors(finds));
    }

    [Fact]
    public async Task GetRecord_PracticeOnboardedSinceTheLastRead_IsAskedOnceAndThenOnlyIfItHoldsThePatient()
    {
        using var newPractice = new FhirSource("N85005", "Seacombe Surgery", OrganisationKind.GpPractice);
        using var host = Host();
        await ReadAsync(host);
        var registry = host.Services.GetRequiredService<ManagedOrganisationRegistry>();
        var change = new RegistryChange("Organization/N85005", "went live", DateTimeOffset.UtcNow, "test", "onboarded");
        await registry.UpdateAsync(
            r => r.With(new Organisation("N85005", newPractice.Name, OrganisationKind.GpPractice, new Uri(newPractice.BaseUrl), 1, LifecycleState.Live), change)
                .With(r.FindAgreement("WCR-DSA-TEST")! with { Providers = [.. r.FindAgreement("WCR-DSA-TEST")!.Providers, "N85005"] }, change),
            null,
            default);

        var before = Counts();
        var first = await ReadAsync(host);
        var newPracticeCalls = newPractice.DataRequests.Count;
        await ReadAsync(host);

        Assert.Equal(["N85002", "RBL", "RY7"], AskedSince(before));
        Assert.NotEqual(0, newPracticeCalls);
        Assert.Contains("4 of the 6 sharing records with you", HowChosen(first), StringComparison.Ordinal);
        Assert.Equal(newPracticeCalls, newPractice.DataRequests.Count);
    }

    [Fact]
    public async Task GetRecord_LocatorsSourcesNoLongerHoldThePatient_AsksEveryoneElseBeforeSayingNotFound()
    {
        using var host = Host();
        await ReadAsync(host);
        _registeredGp.Forgetting(Nhs);
        _acute.Forgetting(Nhs);
        _thirdGp.WithPatient(FhirSource.NewPatient("gr-3", Nhs), ClinicalData.Condition("c3", "gr-3"));

        var bundle = await ReadAsync(host);

        Assert.Equal(["N85004"], Contributors(bundle));
        Assert.Contains("None of the organisations the record locator knows to hold this patient's record returned it, so every organisation sharing records with you (5) was asked", HowChosen(bundle), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRecord_LocatorNamesASourceTheCallerMayNotSee_ItIsNotAsked()
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        using var host = Host(registry =>
        {
            registry.Organisations.Add(new RegistryDocument.OrganisationEntry { OdsCode = "V81999", Name = "Wirral Council Adult Social Care", Kind = OrganisationKind.SocialCare, FhirBaseUrl = "http://127.0.0.1:9/fhir", Phase = 3, State = LifecycleState.AgreementSigned });
            // The council may see the trusts' records only, not the practices'.
            registry.Agreements.Add(new RegistryDocument.AgreementEntry
            {
                Id = "WCR-DSA-COUNCIL", Version = "1.0", Providers = ["RBL", "RY7"], Consumers = ["V81999"], SignedBy = "IG lead",
                SignedOn = today.AddDays(-30), EffectiveFrom = today.AddDays(-30), Expires = today.AddYears(1), Document = GatewayHost.SignedDocument,
            });
        });
        await ReadAsync(host);
        var before = Counts();

        var response = await host.CreateClient(_issuer.CreateToken(ods: "V81999")).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}&breakGlassReason=Safeguarding%20referral%20out%20of%20hours");

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.Equal(["RBL", "RY7"], AskedSince(before));
        Assert.Equal(["RBL"], Contributors(bundle));
        Assert.Contains("2 of the 2 sharing records with you", HowChosen(bundle), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRecord_LocatorDisabled_AsksEverySourceAndAddsNoNotice()
    {
        using var host = new GatewayHost(_issuer, All, settings: new() { ["Locator:Enabled"] = "false" });
        await ReadAsync(host);
        var before = Counts();

        var bundle = await ReadAsync(host);

        Assert.Equal(All.Select(s => s.OdsCode).Order(StringComparer.Ordinal), AskedSince(before));
        Assert.DoesNotContain(bundle.SourceOutcomes()?.Issue ?? [], i => i.Diagnostics.Contains("record locator", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetRecord_SweepGivenTwiceOrNotABoolean_Returns400()
    {
        using var host = Host();
        var client = host.CreateClient(_issuer.CreateToken());

        var both = await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}&sweep=true&_sweep=true");
        var notBoolean = await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}&sweep=yes");

        Assert.Contains("not both", (await FhirAssert.OutcomeAsync(both, HttpStatusCode.BadRequest)).Text(), StringComparison.Ordinal);
        Assert.Contains("sweep must be true or false", (await FhirAssert.OutcomeAsync(notBoolean, HttpStatusCode.BadRequest)).Text(), StringComparison.Ordinal);
        Assert.All(All, s => Assert.Empty(s.DataRequests));
    }

    [Fact]
    public async Task GetRecord_PostWithSweepParameter_AsksEverySource()
    {
        using var host = Host();
        await ReadAsync(host);
        var before = Counts();
        var parameters = new Parameters();
        parameters.Add("patientNHSNumber", new Identifier(NhsNumber.System, Nhs));
        parameters.Add("sweep", new FhirBoolean(true));

        var response = await host.CreateClient(_issuer.CreateToken())
            .PostAsync("/fhir/Patient/$wcr-getrecord", new StringContent(FhirJson.Serialize(parameters), System.Text.Encoding.UTF8, FhirJson.MediaType));

        await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.Equal(All.Select(s => s.OdsCode).Order(StringComparer.Ordinal), AskedSince(before));
    }

    [Fact]
    public async Task GetRecord_LocatorStorage_HoldsNoNhsNumberInBlobNamesAndOnlyCodesAndTimes()
    {
        using var host = Host();

        await ReadAsync(host);

        var folder = Path.Combine(host.Folder, "storage", "wcr-locator");
        var file = Assert.Single(Directory.EnumerateFiles(folder, "*.json", SearchOption.AllDirectories), f => !Path.GetRelativePath(folder, f).StartsWith('.'));
        Assert.DoesNotContain(Nhs, Path.GetFileName(file), StringComparison.Ordinal);
        Assert.Matches("^[0-9a-f]{64}\\.json$", Path.GetFileName(file));
        var json = await File.ReadAllTextAsync(file);
        Assert.DoesNotContain("Jones", json, StringComparison.Ordinal);
        Assert.DoesNotContain("1958", json, StringComparison.Ordinal);
        Assert.DoesNotContain("44054006", json, StringComparison.Ordinal);
        Assert.Contains("\"N85002\"", json, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        foreach (var source in All)
        {
            source.Dispose();
        }

        _issuer.Dispose();
    }
}

/// <summary>The locator's blob names are only as private as their key: Production refuses the development one.</summary>
public sealed class LocatorStartupTests : IDisposable
{
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);

    private async Task<GatewayHost> ProductionAsync(string? nameKey)
    {
        var settings = await ProductionSettings.SafeAsync();
        settings["Locator:NameKey"] = nameKey;
        return new(_issuer, [_acute], editRegistry: ProductionSettings.SecureSources, settings: settings, environment: "Production");
    }

    [Fact]
    public async Task Production_refuses_the_development_name_key()
    {
        using var host = await ProductionAsync(nameKey: LocatorOptions.DevelopmentNameKey);

        var failure = Assert.ThrowsAny<Exception>(() => host.CreateClient(token: null));

        Assert.Contains("Locator:NameKey must be set to a secret of your own in Production", failure.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_starts_with_a_name_key_of_its_own()
    {
        using var host = await ProductionAsync(nameKey: "a-production-secret-of-at-least-32-characters");

        using var client = host.CreateClient(token: null);

        Assert.NotNull(client);
    }

    public void Dispose()
    {
        _acute.Dispose();
        _issuer.Dispose();
    }
}
