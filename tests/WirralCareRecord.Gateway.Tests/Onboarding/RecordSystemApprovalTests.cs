using System.Net;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;
using WirralCareRecord.Gateway.Tests.Launch;

namespace WirralCareRecord.Gateway.Tests.Onboarding;

/// <summary>
/// Issue 19 (hazard WCR-H19): the record system's issuer decides whose id_tokens a context launch trusts as the
/// organisation's clinicians, so one administrator cannot re-point it. A change is proposed, approved by someone else
/// with the issuer checked again, and until then launches trust the old issuer only; the organisation stays in service.
/// </summary>
public sealed class RecordSystemApprovalTests : IDisposable
{
    private const string Nhs = "9000000009";
    private const string Hillside = "N85002";
    private const string HillsideIssuer = "https://emis.hillside.example/fhir";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Surgery", OrganisationKind.GpPractice);
    private readonly SmartRecordSystem _emis = new() { GatewayUrl = ContextLaunchClient.GatewayUrl };
    private readonly SmartRecordSystem _replacement = new() { GatewayUrl = ContextLaunchClient.GatewayUrl };

    public RecordSystemApprovalTests()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Allergy("gp-1-allergy", "gp-1"));
    }

    private static string Said(string from, string to) =>
        $"recordSystem: {from} (client {SmartRecordSystem.ClientId}) → {to} (client {SmartRecordSystem.ClientId})";

    /// <summary>Riverside (N85001) live, launching from <see cref="_emis"/>; Hillside (N85002) a consumer that has signed, with a record system of its own.</summary>
    private GatewayHost Host() => new(_issuer, [_gp], registry =>
    {
        registry.Organisations.Single(o => o.OdsCode == "N85001").RecordSystem = new RecordSystem(_emis.Issuer, SmartRecordSystem.ClientId);
        registry.Organisations.Add(new RegistryDocument.OrganisationEntry
        {
            OdsCode = Hillside, Name = "Hillside Practice", Kind = OrganisationKind.GpPractice, FhirBaseUrl = "http://127.0.0.1:9/fhir", Phase = 1,
            State = LifecycleState.AgreementSigned, RecordSystem = new RecordSystem(HillsideIssuer, "wcr"),
        });
    }, settings: new() { ["Launch:PublicBaseUrl"] = ContextLaunchClient.GatewayUrl });

    private HttpClient Admin(GatewayHost host, string userId) => host.CreateClient(_issuer.CreateToken(role: "OnboardingAdmin", ods: "X26", userId: userId));

    private OrganisationRequest Riverside(string? issuer, string name = "Riverside Surgery") =>
        new("N85001", name, OrganisationKind.GpPractice, _gp.BaseUrl, 1, RecordSystem: issuer is null ? null : new RecordSystem(issuer, SmartRecordSystem.ClientId));

    private static Task<HttpResponseMessage> Put(HttpClient admin, string odsCode, OrganisationRequest body, string etag) =>
        admin.SendWithETagAsync(HttpMethod.Put, odsCode, $"/admin/organisations/{odsCode}", body, etag);

    private static async Task<HttpResponseMessage> DecideAsync(HttpClient admin, string decision, string proposalId) =>
        await admin.SendWithETagAsync(HttpMethod.Post, "N85001", $"/admin/organisations/N85001/connection-change/{decision}",
            new ConnectionDecisionRequest(proposalId, "Practice moved to the new record system, checked with the supplier"), await admin.ETagAsync("N85001"));

    private static string LaunchFrom(SmartRecordSystem system) => system.LaunchUrl(system.AddLaunch(FhirSource.NewPatient("ehr-" + Guid.NewGuid().ToString("N")[..8], Nhs)));

    private async Task<OrganisationView> ProposeReplacementAsync(HttpClient admin) =>
        await Put(admin, "N85001", Riverside(_replacement.Issuer), await admin.ETagAsync("N85001")).ExpectAsync<OrganisationView>(HttpStatusCode.Accepted);

    private static async Task<OrganisationView> ReadAsync(HttpClient admin, string odsCode) =>
        await admin.GetAsync($"/admin/organisations/{odsCode}").ExpectAsync<OrganisationView>(HttpStatusCode.OK);

    [Fact]
    public async Task RecordSystemChange_LiveOrganisation_OldIssuerOnlyUntilSecondAdminApprovesAndStaysInService()
    {
        using var host = Host();
        using var browser = new ContextLaunchClient(host);
        var alice = Admin(host, "admin-alice");
        var bob = Admin(host, "admin-bob");
        var said = Said(_emis.Issuer, _replacement.Issuer);

        // Alice proposes the new record system: the PUT answers as a proposed connection change does, and nothing changes yet.
        var proposed = await ProposeReplacementAsync(alice);
        var proposal = proposed.PendingConnectionChange!;
        Assert.Equal(said, Assert.Single(proposal.Changes));
        Assert.Equal(new RecordSystem(_replacement.Issuer, SmartRecordSystem.ClientId), proposal.RecordSystem?.To);
        Assert.Equal(new RecordSystem(_emis.Issuer, SmartRecordSystem.ClientId), proposed.RecordSystem);
        Assert.Equal(LifecycleState.Live, proposed.State);

        // Until approved, launches trust the old issuer only.
        Assert.StartsWith("/launch/problem?reason=unknown-issuer", await browser.LaunchAsync(LaunchFrom(_replacement)), StringComparison.Ordinal);
        Assert.StartsWith("/record?launch=", await browser.LaunchAsync(LaunchFrom(_emis)), StringComparison.Ordinal);

        // She cannot approve her own proposal.
        Assert.Contains("two-person rule", await DecideAsync(alice, "approve", proposal.Id).RefusedAsync(HttpStatusCode.Forbidden), StringComparison.Ordinal);
        Assert.StartsWith("/launch/problem?reason=unknown-issuer", await browser.LaunchAsync(LaunchFrom(_replacement)), StringComparison.Ordinal);

        // Bob approves while a launch from the old system is under way: the new record system applies, and Riverside stays in service.
        var underWay = await browser.StartAsync(LaunchFrom(_emis));
        var approved = await DecideAsync(bob, "approve", proposal.Id).ExpectAsync<OrganisationView>(HttpStatusCode.OK);
        Assert.Equal(new RecordSystem(_replacement.Issuer, SmartRecordSystem.ClientId), approved.RecordSystem);
        Assert.Equal(LifecycleState.Live, approved.State);
        Assert.Null(approved.ResumeAfterFlowTest);
        Assert.Null(approved.PendingConnectionChange);
        Assert.Equal(_gp.BaseUrl, approved.FhirBaseUrl);
        var bundle = await FhirAssert.ReadAsync<Bundle>(await host.CreateClient(_issuer.CreateToken()).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}"), HttpStatusCode.OK);
        Assert.Contains(bundle.Entry.Select(e => e.Resource).OfType<AllergyIntolerance>(), a => a.Id.Contains("gp-1-allergy", StringComparison.Ordinal));

        // From now on the new issuer only: the launch begun on the old one does not finish.
        Assert.StartsWith("/launch/problem?reason=unknown-issuer", await browser.CompleteAsync(underWay), StringComparison.Ordinal);
        Assert.StartsWith("/launch/problem?reason=unknown-issuer", await browser.LaunchAsync(LaunchFrom(_emis)), StringComparison.Ordinal);
        Assert.StartsWith("/record?launch=", await browser.LaunchAsync(LaunchFrom(_replacement)), StringComparison.Ordinal);

        // History and audit name both administrators and say from and to; no move out of service.
        var history = await alice.GetAsync("/admin/organisations/N85001/history").ExpectAsync<List<RegistryChange>>(HttpStatusCode.OK);
        Assert.Contains(history, h => h.Action == "connection change proposed" && h.By.Contains("admin-alice", StringComparison.Ordinal) && h.Reason.Contains(said, StringComparison.Ordinal));
        Assert.Contains(history, h => h.Action == "connection change approved" && h.By.Contains("admin-bob", StringComparison.Ordinal) && h.Reason.Contains(said, StringComparison.Ordinal));
        Assert.DoesNotContain(history, h => h.Action == "transition");
        var audited = host.AuditEvents().Where(e => e.Entity.Any(x => x.What?.Reference == "Organization/N85001")).ToList();
        Assert.Contains(audited, e => e.Outcome == AuditEvent.AuditEventOutcome.N0 && e.OutcomeDesc.Contains(said, StringComparison.Ordinal) && e.Agent.First().Who.Identifier.Value == "admin-alice");
        Assert.Contains(audited, e => e.Outcome == AuditEvent.AuditEventOutcome.N4 && e.OutcomeDesc.Contains("two-person rule", StringComparison.Ordinal) && e.Agent.First().Who.Identifier.Value == "admin-alice");
        Assert.Contains(audited, e => e.OutcomeDesc.StartsWith("approve connection change", StringComparison.Ordinal) && e.OutcomeDesc.Contains(said, StringComparison.Ordinal)
            && e.Agent.First().Who.Identifier.Value == "admin-bob");
    }

    [Fact]
    public async Task RecordSystemChange_IssuerTakenByAnotherOrganisationSinceProposal_ApprovalIs409AndChangesNothing()
    {
        using var host = Host();
        var alice = Admin(host, "admin-alice");
        var bob = Admin(host, "admin-bob");
        var proposal = (await ProposeReplacementAsync(alice)).PendingConnectionChange!;

        // Meanwhile a new practice is registered with that issuer (a proposal does not reserve it).
        await alice.PostJsonAsync("/admin/organisations", new OrganisationRequest(
            "N85099", "Seacombe Surgery", OrganisationKind.GpPractice, "https://fhir.seacombe.example/fhir", 1, RecordSystem: new RecordSystem(_replacement.Issuer, SmartRecordSystem.ClientId)))
            .ExpectAsync<OrganisationView>(HttpStatusCode.Created);
        var etag = await bob.ETagAsync("N85001");

        var detail = await DecideAsync(bob, "approve", proposal.Id).RefusedAsync(HttpStatusCode.Conflict);

        Assert.Contains($"{proposal.Id} cannot be approved", detail, StringComparison.Ordinal);
        Assert.Contains("already N85099's record system", detail, StringComparison.Ordinal);
        var riverside = await ReadAsync(bob, "N85001");
        Assert.Equal(new RecordSystem(_emis.Issuer, SmartRecordSystem.ClientId), riverside.RecordSystem);
        Assert.Equal(proposal.Id, riverside.PendingConnectionChange?.Id);
        Assert.Equal(etag, await bob.ETagAsync("N85001"));
        Assert.Contains(host.AuditEvents(), e => e.Outcome != AuditEvent.AuditEventOutcome.N0 && e.OutcomeDesc.Contains("already N85099's record system", StringComparison.Ordinal)
            && e.Agent.First().Who.Identifier.Value == "admin-bob");
    }

    [Fact]
    public async Task RecordSystemChange_IssuerTheRuleNoLongerAllows_ApprovalIs409AndChangesNothing()
    {
        // Proposed while plain http was allowed; approved on a gateway where it is not (Staging, no test-rig http).
        var proposal = new ProposedConnectionChange(
            "cc-20260101000000-abcdef", new SourceConnection(new Uri("https://fhir.riverside.example/fhir"), SourceAuthentication.None),
            "admin-alice", "Alice (admin-alice)", DateTimeOffset.UtcNow.AddHours(-1), [Said("https://emis.riverside.example/fhir", "http://ehr.riverside.example/fhir")])
        {
            RecordSystem = new RecordSystemChange(new RecordSystem("http://ehr.riverside.example/fhir", SmartRecordSystem.ClientId)),
        };
        using var host = new GatewayHost(_issuer, [_gp], registry =>
        {
            var riverside = registry.Organisations.Single(o => o.OdsCode == "N85001");
            riverside.FhirBaseUrl = "https://fhir.riverside.example/fhir";
            riverside.RecordSystem = new RecordSystem("https://emis.riverside.example/fhir", SmartRecordSystem.ClientId);
            riverside.PendingConnectionChange = proposal;
        }, settings: new() { ["Registry:AllowHttpSources"] = "false" }, environment: "Staging");
        var bob = Admin(host, "admin-bob");

        var detail = await DecideAsync(bob, "approve", proposal.Id).RefusedAsync(HttpStatusCode.Conflict);

        Assert.Contains("plain http", detail, StringComparison.Ordinal);
        var riverside = await ReadAsync(bob, "N85001");
        Assert.Equal("https://emis.riverside.example/fhir", riverside.RecordSystem?.Issuer);
        Assert.Equal(proposal.Id, riverside.PendingConnectionChange?.Id);
    }

    [Theory]
    [InlineData("Clinician")]
    [InlineData("Auditor")]
    [InlineData("Operator")]
    public async Task RecordSystemChange_ProposedOrApprovedByANonAdmin_Is403AndChangesNothing(string role)
    {
        using var host = Host();
        var alice = Admin(host, "admin-alice");
        var mallory = host.CreateClient(_issuer.CreateToken(role: role, ods: "N85001", userId: "mallory"));

        using (var put = await Put(mallory, "N85001", Riverside(_replacement.Issuer), await alice.ETagAsync("N85001")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
        }

        Assert.Null((await ReadAsync(alice, "N85001")).PendingConnectionChange);
        var proposal = (await ProposeReplacementAsync(alice)).PendingConnectionChange!;
        using (var approve = await mallory.SendWithETagAsync(HttpMethod.Post, "N85001", "/admin/organisations/N85001/connection-change/approve",
            new ConnectionDecisionRequest(proposal.Id, "Looks fine to me"), await alice.ETagAsync("N85001")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, approve.StatusCode);
        }

        var riverside = await ReadAsync(alice, "N85001");
        Assert.Equal(_emis.Issuer, riverside.RecordSystem?.Issuer);
        Assert.Equal(proposal.Id, riverside.PendingConnectionChange?.Id);
    }

    [Theory]
    [InlineData("https://EMIS.Hillside.example:443/%66hir/", "already N85002's record system")]
    [InlineData("https://emis.riverside.example@attacker.example/fhir", "must not carry user information")]
    [InlineData("https://attacker.example/fhir#https://emis.riverside.example/fhir", "query or fragment")]
    [InlineData("https://attacker.example/fhir?iss=https%3A%2F%2Femis.riverside.example%2Ffhir", "query or fragment")]
    [InlineData("javascript:alert(1)//", "not an absolute https URL")]
    [InlineData("   ", "not an absolute https URL")]
    public async Task RecordSystemChange_OddOrEncodedIssuer_Is400AndNothingProposed(string issuer, string expected)
    {
        using var host = Host();
        var alice = Admin(host, "admin-alice");

        var detail = await Put(alice, "N85001", Riverside(issuer), await alice.ETagAsync("N85001")).RefusedAsync(HttpStatusCode.BadRequest);

        Assert.Contains("recordSystem.issuer", detail, StringComparison.Ordinal);
        Assert.Contains(expected, detail, StringComparison.Ordinal);
        var riverside = await ReadAsync(alice, "N85001");
        Assert.Equal(_emis.Issuer, riverside.RecordSystem?.Issuer);
        Assert.Null(riverside.PendingConnectionChange);
    }

    [Fact]
    public async Task DetailsChange_WhileRecordSystemChangeIsPending_AppliedAtOnceAndRecordSystemUntouched()
    {
        using var host = Host();
        var alice = Admin(host, "admin-alice");
        var bob = Admin(host, "admin-bob");
        var proposal = (await ProposeReplacementAsync(alice)).PendingConnectionChange!;

        // Bob renames the practice, sending back the record system he read: one admin may, and it is applied at once.
        var current = await ReadAsync(bob, "N85001");
        var renamed = await Put(bob, "N85001", Riverside(current.RecordSystem!.Issuer, name: "Riverside Medical Centre"), await bob.ETagAsync("N85001"))
            .ExpectAsync<OrganisationView>(HttpStatusCode.OK);

        Assert.Equal("Riverside Medical Centre", renamed.Name);
        Assert.Equal(new RecordSystem(_emis.Issuer, SmartRecordSystem.ClientId), renamed.RecordSystem);
        Assert.Equal(proposal.Id, renamed.PendingConnectionChange?.Id);
        Assert.Equal(proposal.RecordSystem, renamed.PendingConnectionChange?.RecordSystem);
        var history = await bob.GetAsync("/admin/organisations/N85001/history").ExpectAsync<List<RegistryChange>>(HttpStatusCode.OK);
        var update = Assert.Single(history, h => h.Action == "details updated");
        Assert.Equal("name: Riverside Surgery → Riverside Medical Centre", update.Reason);

        // The proposal still stands, and its approval keeps the new name.
        var approved = await DecideAsync(bob, "approve", proposal.Id).ExpectAsync<OrganisationView>(HttpStatusCode.OK);
        Assert.Equal(_replacement.Issuer, approved.RecordSystem?.Issuer);
        Assert.Equal("Riverside Medical Centre", approved.Name);
    }

    [Fact]
    public async Task RecordSystemChange_ConsumerThatHasSignedButNeverFlowTested_IsProposedNotApplied()
    {
        // A consumer views shared records from AgreementSigned on, flow-tested or not: its record system needs a second admin.
        using var host = Host();
        var alice = Admin(host, "admin-alice");

        var proposed = await Put(alice, Hillside, new OrganisationRequest(Hillside, "Hillside Practice", OrganisationKind.GpPractice, "http://127.0.0.1:9/fhir", 1,
            RecordSystem: new RecordSystem("https://ehr.attacker.example/fhir", "wcr")), await alice.ETagAsync(Hillside)).ExpectAsync<OrganisationView>(HttpStatusCode.Accepted);
        Assert.Equal(HillsideIssuer, proposed.RecordSystem?.Issuer);
        Assert.Equal("https://ehr.attacker.example/fhir", proposed.PendingConnectionChange?.RecordSystem?.To?.Issuer);

        // Removing it is a change too.
        var removal = await Put(alice, "N85001", Riverside(null), await alice.ETagAsync("N85001")).ExpectAsync<OrganisationView>(HttpStatusCode.Accepted);
        Assert.Equal(_emis.Issuer, removal.RecordSystem?.Issuer);
        Assert.NotNull(removal.PendingConnectionChange?.RecordSystem);
        Assert.Null(removal.PendingConnectionChange.RecordSystem.To);
    }

    [Fact]
    public async Task RecordSystemApproval_AfterADirectConnectionChange_KeepsTheNewConnection()
    {
        // Arrange: a record system proposed for a never-flow-tested consumer, whose connection one admin may still change alone.
        using var host = Host();
        var alice = Admin(host, "admin-alice");
        var bob = Admin(host, "admin-bob");
        const string NewIssuer = "https://ehr.replacement.example/fhir";
        var proposed = await Put(alice, Hillside, new OrganisationRequest(Hillside, "Hillside Practice", OrganisationKind.GpPractice, "http://127.0.0.1:9/fhir", 1,
            RecordSystem: new RecordSystem(NewIssuer, "wcr")), await alice.ETagAsync(Hillside)).ExpectAsync<OrganisationView>(HttpStatusCode.Accepted);
        await Put(alice, Hillside, new OrganisationRequest(Hillside, "Hillside Practice", OrganisationKind.GpPractice, "http://127.0.0.1:10/fhir", 1,
            RecordSystem: new RecordSystem(HillsideIssuer, "wcr")), await alice.ETagAsync(Hillside)).ExpectAsync<OrganisationView>(HttpStatusCode.OK);

        // Act
        var approved = bob.SendWithETagAsync(HttpMethod.Post, Hillside, $"/admin/organisations/{Hillside}/connection-change/approve",
            new ConnectionDecisionRequest(proposed.PendingConnectionChange!.Id, "New record system checked with the supplier"), await bob.ETagAsync(Hillside));

        // Assert: the record system is the proposed one, and the connection is not put back to the one copied at proposal.
        var organisation = await approved.ExpectAsync<OrganisationView>(HttpStatusCode.OK);
        Assert.Equal(NewIssuer, organisation.RecordSystem?.Issuer);
        Assert.Equal("http://127.0.0.1:10/fhir", organisation.FhirBaseUrl);
        Assert.Equal(LifecycleState.AgreementSigned, organisation.State);
    }

    public void Dispose()
    {
        _gp.Dispose();
        _emis.Dispose();
        _replacement.Dispose();
        _issuer.Dispose();
    }
}
