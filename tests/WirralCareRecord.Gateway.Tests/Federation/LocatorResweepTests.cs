using System.Net;
using Hl7.Fhir.Model;
using Microsoft.Extensions.DependencyInjection;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.PatientMatching;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Federation;

/// <summary>
/// The background re-sweep keeps locator entries fresh: stale entries are re-checked at every live source with a Patient
/// search only, each re-sweep is audited as a system access, and what it finds narrows later reads.
/// </summary>
public sealed class LocatorResweepTests : IDisposable
{
    private const string Nhs = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _registeredGp = new("N85002", "Hoylake Road Surgery", OrganisationKind.GpPractice);
    private readonly FhirSource _newGp = new("N85003", "Moreton Health Clinic", OrganisationKind.GpPractice);
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);

    public LocatorResweepTests()
    {
        _registeredGp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Encounter("e1", "pas-1"));
    }

    private FhirSource[] All => [_registeredGp, _newGp, _acute];

    // Staleness is judged on a clock the one-pass tests move, so a slow machine cannot age an entry early.
    private readonly ShiftedTimeProvider _clock = new();

    private GatewayHost Host(bool background, Action<RegistryDocument>? editRegistry = null) => new(_issuer, All, editRegistry, settings: new()
    {
        ["Locator:StaleAfter"] = background ? "00:00:01" : "01:00:00",
        ["Locator:BackgroundResweep"] = background ? "true" : "false",
        ["Locator:ResweepInterval"] = "00:00:00.200",
    }, services: s => s.AddSingleton<TimeProvider>(_clock));

    private async Task<Bundle> ReadAsync(GatewayHost host, string extra = "") =>
        await FhirAssert.ReadAsync<Bundle>(await host.CreateClient(_issuer.CreateToken()).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}{extra}"), HttpStatusCode.OK);

    private static IEnumerable<AuditEvent> Resweeps(GatewayHost host) =>
        host.AuditEvents().Where(e => e.Entity.Any(x => x.Description == LocatorResweeper.Request));

    [Fact]
    public async Task Resweep_StaleEntry_FindsANewPracticeWithPatientSearchesOnlyAndIsAuditedAsASystemAccess()
    {
        using var host = Host(background: true);
        await ReadAsync(host);
        _newGp.WithPatient(FhirSource.NewPatient("mo-9", Nhs), ClinicalData.Condition("c9", "mo-9", "22298006", "Myocardial infarction"));
        var requestsBefore = All.ToDictionary(s => s.OdsCode, s => s.DataRequests.Count);

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!Resweeps(host).Any())
        {
            Assert.True(DateTime.UtcNow < deadline, "No background re-sweep was audited.");
            await Task.Delay(100);
        }

        var audit = Resweeps(host).First();
        Assert.Equal("unidentified", audit.Agent.Single(a => a.Requestor == true).Who.Identifier.Value);
        Assert.DoesNotContain(audit.Agent, a => a.Who.Identifier?.System == OdsCode.System);
        Assert.Contains(audit.Entity, e => e.What?.Identifier?.System == NhsNumber.System && e.What.Identifier.Value == Nhs);
        Assert.Contains("Background re-sweep", audit.OutcomeDesc, StringComparison.Ordinal);
        Assert.Contains("no record was fetched", audit.OutcomeDesc, StringComparison.Ordinal);
        var sources = audit.Entity.Where(e => e.Role?.Code == "3").ToDictionary(e => e.What.Identifier.Value!, e => e.Description!);
        Assert.Equal("located", sources["N85003"]);
        Assert.Equal("located", sources["RBL"]);
        Assert.All(audit.Entity.Where(e => e.Role?.Code == "3"), e => Assert.Equal("1", ((FhirString)e.Detail.Single(d => d.Type == "calls").Value).Value));
        // Nothing but "do you hold this NHS number": no record search reached any source.
        Assert.All(All, s => Assert.All(s.RequestedPaths.Skip(requestsBefore[s.OdsCode]), path => Assert.Matches("^/fhir/Patient\\?+identifier=[^&]*$", path)));

        var warm = await ReadAsync(host);
        Assert.Contains(warm.Entry, e => e.Resource is Condition { Id: "c9" });
        Assert.Contains(warm.SourceOutcomes()!.Issue, i => i.Diagnostics.Contains("The record locator chose", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Resweep_OnePass_SweepsOnlyStaleEntriesAndClaimsThem()
    {
        using var host = Host(background: false);
        await ReadAsync(host);
        var resweeper = host.Services.GetRequiredService<LocatorResweeper>();

        var fresh = await resweeper.SweepStaleAsync(default);
        _clock.Offset += TimeSpan.FromHours(1);
        var stale = await resweeper.SweepStaleAsync(default);
        var justSwept = await resweeper.SweepStaleAsync(default);

        Assert.Equal(0, fresh);
        Assert.Equal(1, stale);
        Assert.Equal(0, justSwept);
        Assert.Single(Resweeps(host));
    }

    [Fact]
    public async Task Resweep_PatientWhoObjected_IsNotAskedAbout()
    {
        using var host = Host(background: false, registry => registry.Objections.Add(new RegistryDocument.ObjectionEntry { NhsNumber = Nhs, RecordedOn = new DateOnly(2026, 11, 2), RecordedBy = "Practice reception" }));
        // Break-glass opens the record once, so the locator learns of the patient.
        await ReadAsync(host, "&breakGlassReason=Unconscious%20in%20the%20emergency%20department");
        var requestsBefore = All.Sum(s => s.DataRequests.Count);
        _clock.Offset += TimeSpan.FromHours(1);

        var swept = await host.Services.GetRequiredService<LocatorResweeper>().SweepStaleAsync(default);

        Assert.Equal(0, swept);
        Assert.Equal(requestsBefore, All.Sum(s => s.DataRequests.Count));
        Assert.Empty(Resweeps(host));
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
