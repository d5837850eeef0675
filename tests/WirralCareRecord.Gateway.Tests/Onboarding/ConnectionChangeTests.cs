using System.Net;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Onboarding;

/// <summary>
/// Issue 16, finding 1: a live source's connection cannot be re-pointed by one administrator. A change is proposed,
/// approved by someone else, takes the source out of service, and only a passed flow test of the new connection puts
/// it back; history and audit say what changed from and to.
/// </summary>
public sealed class ConnectionChangeTests : IDisposable
{
    private const string Nhs = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);
    private readonly FhirSource _acuteNewSystem = new("RBL", "Wirral University Teaching Hospital (new PAS)", OrganisationKind.AcuteTrust);
    private readonly FhirSource _community = new("RY7", "Wirral Community Health and Care", OrganisationKind.CommunityTrust);

    public ConnectionChangeTests()
    {
        _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Encounter("e1", "pas-1"));
        _acuteNewSystem.WithPatient(FhirSource.NewPatient("pas-9", Nhs), ClinicalData.Condition("c9", "pas-9"))
            .WithCapabilityStatement(FederationOptions.DefaultRecordTypes);
        _community.WithPatient(FhirSource.NewPatient("com-1", Nhs), ClinicalData.Condition("c1", "com-1"));
    }

    private HttpClient Admin(GatewayHost host, string userId) => host.CreateClient(_issuer.CreateToken(role: "OnboardingAdmin", ods: "X26", userId: userId));

    private OrganisationRequest Rbl(string baseUrl, SourceAuthentication? authentication = null) =>
        new("RBL", _acute.Name, OrganisationKind.AcuteTrust, baseUrl, 1, Authentication: authentication);

    private async Task<IReadOnlyList<string>> SourcesInRecordAsync(GatewayHost host)
    {
        var bundle = await FhirAssert.ReadAsync<Bundle>(await host.CreateClient(_issuer.CreateToken()).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}"), HttpStatusCode.OK);
        return [.. bundle.Entry.Select(e => e.Resource).OfType<Provenance>().Select(p => p.Agent.Single().Who.Identifier.Value!).Order()];
    }

    [Fact]
    public async Task ConnectionChange_LiveSource_ProposedApprovedBySecondAdminOutOfServiceUntilFlowTestPasses()
    {
        using var host = new GatewayHost(_issuer, [_acute, _community]);
        var alice = Admin(host, "admin-alice");
        var bob = Admin(host, "admin-bob");
        Assert.Equal(["RBL", "RY7"], await SourcesInRecordAsync(host));

        // Alice proposes a new base URL: nothing changes yet.
        var proposed = await alice.SendWithETagAsync(HttpMethod.Put, "RBL", "/admin/organisations/RBL", Rbl(_acuteNewSystem.BaseUrl), await alice.ETagAsync("RBL"))
            .ExpectAsync<OrganisationView>(HttpStatusCode.Accepted);
        var proposal = proposed.PendingConnectionChange!;
        Assert.Equal(LifecycleState.Live, proposed.State);
        Assert.Equal(_acute.BaseUrl, proposed.FhirBaseUrl);
        Assert.Equal($"fhirBaseUrl: {_acute.BaseUrl} → {_acuteNewSystem.BaseUrl}", Assert.Single(proposal.Changes));
        Assert.Equal(["RBL", "RY7"], await SourcesInRecordAsync(host));
        Assert.Empty(_acuteNewSystem.DataRequests);

        // She cannot approve her own change, and If-Match is required (and * refused) on the approval.
        var decision = new ConnectionDecisionRequest(proposal.Id, "New PAS go-live checked with WUTH IT");
        var self = await alice.SendWithETagAsync(HttpMethod.Post, "RBL", "/admin/organisations/RBL/connection-change/approve", decision, await alice.ETagAsync("RBL"))
            .RefusedAsync(HttpStatusCode.Forbidden);
        Assert.Contains("two-person rule", self, StringComparison.Ordinal);
        await bob.SendWithETagAsync(HttpMethod.Post, "RBL", "/admin/organisations/RBL/connection-change/approve", decision, null).RefusedAsync(HttpStatusCode.PreconditionRequired);
        await bob.SendWithETagAsync(HttpMethod.Post, "RBL", "/admin/organisations/RBL/connection-change/approve", decision, "*").RefusedAsync(HttpStatusCode.PreconditionRequired);

        // Bob approves: RBL is out of service, and clinicians' reads of it are refused until the new connection passes.
        var approved = await bob.SendWithETagAsync(HttpMethod.Post, "RBL", "/admin/organisations/RBL/connection-change/approve", decision, await bob.ETagAsync("RBL"))
            .ExpectAsync<OrganisationView>(HttpStatusCode.OK);
        Assert.Equal(LifecycleState.Suspended, approved.State);
        Assert.Equal(LifecycleState.Live, approved.ResumeAfterFlowTest);
        Assert.Null(approved.LastFlowTest);
        Assert.Equal(_acuteNewSystem.BaseUrl, approved.FhirBaseUrl);
        Assert.Equal(["RY7"], await SourcesInRecordAsync(host));
        using (var sourceRoute = await host.CreateClient(_issuer.CreateToken()).GetAsync("/sources/RBL/fhir/Patient/pas-9"))
        {
            Assert.False(sourceRoute.IsSuccessStatusCode, $"source route answered {(int)sourceRoute.StatusCode} while RBL was out of service");
        }

        Assert.Empty(_acuteNewSystem.DataRequests);
        var oldAsked = _acute.DataRequests.Count;

        // A flow test of the new connection passes: RBL is back in service, read from the new system.
        var report = await alice.PostJsonAsync("/admin/organisations/RBL/flow-tests", new FlowTestRequest()).ExpectAsync<FlowTestReport>(HttpStatusCode.Created);
        Assert.True(report.Passed, report.Summary);
        var back = await alice.GetAsync("/admin/organisations/RBL").ExpectAsync<OrganisationView>(HttpStatusCode.OK);
        Assert.Equal(LifecycleState.Live, back.State);
        Assert.Null(back.ResumeAfterFlowTest);
        var newAsked = _acuteNewSystem.DataRequests.Count;
        Assert.Equal(["RBL", "RY7"], await SourcesInRecordAsync(host));
        Assert.True(_acuteNewSystem.DataRequests.Count > newAsked);
        Assert.Equal(oldAsked, _acute.DataRequests.Count);

        // History and audit say who did what, from and to.
        var history = await alice.GetAsync("/admin/organisations/RBL/history").ExpectAsync<List<RegistryChange>>(HttpStatusCode.OK);
        Assert.Contains(history, h => h.Action == "connection change proposed" && h.By.Contains("admin-alice", StringComparison.Ordinal) && h.Reason.Contains($"{_acute.BaseUrl} → {_acuteNewSystem.BaseUrl}", StringComparison.Ordinal));
        Assert.Contains(history, h => h.Action == "connection change approved" && h.By.Contains("admin-bob", StringComparison.Ordinal));
        Assert.Contains(history, h => h.From == LifecycleState.Live && h.To == LifecycleState.Suspended);
        Assert.Contains(history, h => h.From == LifecycleState.Suspended && h.To == LifecycleState.Live && h.Reason.Contains(report.Id, StringComparison.Ordinal));
        var audited = host.AuditEvents().Where(e => e.Entity.Any(x => x.What?.Reference == "Organization/RBL")).ToList();
        Assert.Contains(audited, e => e.Outcome == AuditEvent.AuditEventOutcome.N0 && e.OutcomeDesc.Contains($"{_acute.BaseUrl} → {_acuteNewSystem.BaseUrl}", StringComparison.Ordinal)
            && e.Agent.First().Who.Identifier.Value == "admin-alice");
        Assert.Contains(audited, e => e.Outcome == AuditEvent.AuditEventOutcome.N4 && e.OutcomeDesc.Contains("two-person rule", StringComparison.Ordinal));
        Assert.Contains(audited, e => e.OutcomeDesc.StartsWith("approve connection change", StringComparison.Ordinal) && e.Agent.First().Who.Identifier.Value == "admin-bob");
    }

    [Fact]
    public async Task ConnectionChange_TokenEndpointOffAllowListOrPlainHttpOrOtherOrganisationsSecret_IsRefused()
    {
        using var host = new GatewayHost(_issuer, [_acute], settings: new() { ["Registry:AllowedTokenEndpointHosts:0"] = "*.wuth.nhs.uk" });
        var alice = Admin(host, "admin-alice");

        var detail = await alice.SendWithETagAsync(HttpMethod.Put, "RBL", "/admin/organisations/RBL", Rbl(_acute.BaseUrl, new SourceAuthentication(
            SourceAuthenticationMode.ClientCredentials, new Uri("https://login.attacker.example/token"), "wcr-gateway", SecretName: "N85001-client")), await alice.ETagAsync("RBL"))
            .RefusedAsync(HttpStatusCode.BadRequest);
        Assert.Contains("host login.attacker.example is not on the allow-list", detail, StringComparison.Ordinal);
        Assert.Contains("authentication.secretName 'N85001-client' must be RBL's own", detail, StringComparison.Ordinal);

        var http = await alice.SendWithETagAsync(HttpMethod.Put, "RBL", "/admin/organisations/RBL", Rbl(_acute.BaseUrl, new SourceAuthentication(
            SourceAuthenticationMode.ClientCredentials, new Uri("http://idp.wuth.nhs.uk/token"), "wcr-gateway", SecretName: "RBL-client")), await alice.ETagAsync("RBL"))
            .RefusedAsync(HttpStatusCode.BadRequest);
        Assert.Contains("tokenEndpoint must be https", http, StringComparison.Ordinal);

        // On the allow-list, over https, with RBL's own secret: proposed for a second admin, never applied at once.
        var proposed = await alice.SendWithETagAsync(HttpMethod.Put, "RBL", "/admin/organisations/RBL", Rbl(_acute.BaseUrl, new SourceAuthentication(
            SourceAuthenticationMode.ClientCredentials, new Uri("https://idp.wuth.nhs.uk/token"), "wcr-gateway", SecretName: "RBL-client")), await alice.ETagAsync("RBL"))
            .ExpectAsync<OrganisationView>(HttpStatusCode.Accepted);
        Assert.Equal(SourceAuthenticationMode.None, proposed.Authentication.Mode);
        Assert.Contains("authentication.tokenEndpoint: (none) → https://idp.wuth.nhs.uk/token", proposed.PendingConnectionChange!.Changes);
        Assert.Contains("authentication.secretName: (none) → RBL-client", proposed.PendingConnectionChange.Changes);
    }

    [Fact]
    public async Task Transition_WithoutIfMatchOrWithStar_IsRefused()
    {
        using var host = new GatewayHost(_issuer, [_acute]);
        var admin = Admin(host, "admin-alice");
        var body = new TransitionRequest(LifecycleState.Suspended, "Supplier reported a fault");

        var missing = await admin.SendWithETagAsync(HttpMethod.Post, "RBL", "/admin/organisations/RBL/transitions", body, null).RefusedAsync(HttpStatusCode.PreconditionRequired);
        var star = await admin.SendWithETagAsync(HttpMethod.Post, "RBL", "/admin/organisations/RBL/transitions", body, "*").RefusedAsync(HttpStatusCode.PreconditionRequired);
        var starUpdate = await admin.SendWithETagAsync(HttpMethod.Put, "RBL", "/admin/organisations/RBL", Rbl(_acute.BaseUrl) with { Name = "Renamed" }, "*").RefusedAsync(HttpStatusCode.PreconditionRequired);

        Assert.Contains("Send If-Match", missing, StringComparison.Ordinal);
        Assert.Contains("If-Match: * is not accepted", star, StringComparison.Ordinal);
        Assert.Contains("If-Match: * is not accepted", starUpdate, StringComparison.Ordinal);
        Assert.Equal(LifecycleState.Live, (await admin.GetAsync("/admin/organisations/RBL").ExpectAsync<OrganisationView>(HttpStatusCode.OK)).State);
    }

    public void Dispose()
    {
        _acute.Dispose();
        _acuteNewSystem.Dispose();
        _community.Dispose();
        _issuer.Dispose();
    }
}
