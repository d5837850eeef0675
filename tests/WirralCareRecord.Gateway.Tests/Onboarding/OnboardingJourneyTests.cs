using System.Net;
using System.Net.Http.Json;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Onboarding;

/// <summary>Onboarding through the admin API alone, against a running gateway federating WireMock sources.</summary>
public sealed class OnboardingJourneyTests : IDisposable
{
    private const string Nhs = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);
    private readonly FhirSource _newPractice = new("N85099", "Seacombe Surgery", OrganisationKind.GpPractice);

    public OnboardingJourneyTests()
    {
        _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Encounter("e1", "pas-1"));
        _newPractice.WithPatient(FhirSource.NewPatient("gp-7", Nhs), ClinicalData.Condition("c7", "gp-7"))
            .WithCapabilityStatement(FederationOptions.DefaultRecordTypes);
    }

    private HttpClient Admin(GatewayHost host) => host.CreateClient(_issuer.CreateToken(role: "OnboardingAdmin", ods: "X26", userId: "admin-01"));

    private HttpClient Clinician(GatewayHost host) => host.CreateClient(_issuer.CreateToken());

    private static string RecordUrl => $"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}";

    private static async Task<IReadOnlyList<string>> SourcesInRecordAsync(HttpClient clinician)
    {
        var bundle = await FhirAssert.ReadAsync<Bundle>(await clinician.GetAsync(RecordUrl), HttpStatusCode.OK);
        return [.. bundle.Entry.Select(e => e.Resource).OfType<Provenance>().Select(p => p.Agent.Single().Who.Identifier.Value!).Order()];
    }

    private static AgreementRequest NewAgreement(string id, params string[] providers)
    {
        var today = UkDate.Today(TimeProvider.System);
        return new AgreementRequest(id, "1", providers, ["N85001", "RBL", .. providers], "Wirral ICS IG lead", today.AddDays(-1), today.AddDays(-1), today.AddYears(3), today.AddYears(1));
    }

    [Fact]
    public async Task A_new_practice_goes_from_registered_to_live_through_the_API_and_is_federated_only_once_live()
    {
        using var host = new GatewayHost(_issuer, [_acute]);
        var admin = Admin(host);
        var clinician = Clinician(host);
        Assert.Equal(["RBL"], await SourcesInRecordAsync(clinician));

        var registered = await admin.PostJsonAsync("/admin/organisations", new OrganisationRequest("N85099", "Seacombe Surgery", OrganisationKind.GpPractice, _newPractice.BaseUrl, 1, StaffCount: 24))
            .ExpectAsync<OrganisationView>(HttpStatusCode.Created);
        Assert.Equal(LifecycleState.Registered, registered.State);
        await admin.PostJsonAsync("/admin/agreements", NewAgreement("WCR-DSA-N85099", "N85099")).ExpectAsync<SharingAgreement>(HttpStatusCode.Created);

        var unsigned = await admin.TransitionAsync("N85099", LifecycleState.AgreementSigned).RefusedAsync(HttpStatusCode.Conflict);
        Assert.Contains("WCR-DSA-N85099 v1 has not been uploaded", unsigned, StringComparison.Ordinal);
        await admin.UploadAsync("N85099", "WCR-DSA-N85099", AdminApi.Pdf()).ExpectAsync<AgreementDocument>(HttpStatusCode.Created);
        await admin.TransitionAsync("N85099", LifecycleState.AgreementSigned).ExpectAsync<OrganisationView>(HttpStatusCode.OK);

        var untested = await admin.TransitionAsync("N85099", LifecycleState.FlowTested).RefusedAsync(HttpStatusCode.Conflict);
        Assert.Contains("has no flow test", untested, StringComparison.Ordinal);
        var report = await admin.PostJsonAsync("/admin/organisations/N85099/flow-tests", new FlowTestRequest(Nhs)).ExpectAsync<FlowTestReport>(HttpStatusCode.Created);
        Assert.True(report.Passed, report.Summary);
        Assert.Equal(2 + FederationOptions.DefaultRecordTypes.Count, report.Steps.Count);
        Assert.All(report.Steps, step => Assert.True(step.Milliseconds > 0));
        await admin.TransitionAsync("N85099", LifecycleState.FlowTested).ExpectAsync<OrganisationView>(HttpStatusCode.OK);
        var flowTestRequests = _newPractice.DataRequests.Count;
        Assert.Equal(["RBL"], await SourcesInRecordAsync(clinician));
        Assert.Equal(flowTestRequests, _newPractice.DataRequests.Count);

        var live = await admin.TransitionAsync("N85099", LifecycleState.Live).ExpectAsync<OrganisationView>(HttpStatusCode.OK);
        Assert.Equal([LifecycleState.Suspended, LifecycleState.Withdrawn], live.AllowedTransitions);
        Assert.Equal(["N85099", "RBL"], await SourcesInRecordAsync(clinician));

        await admin.TransitionAsync("N85099", LifecycleState.Suspended, "Supplier reported a data quality fault").ExpectAsync<OrganisationView>(HttpStatusCode.OK);
        var asked = _newPractice.DataRequests.Count;
        Assert.Equal(["RBL"], await SourcesInRecordAsync(clinician));
        Assert.Equal(asked, _newPractice.DataRequests.Count);

        var history = await admin.GetAsync("/admin/organisations/N85099/history").ExpectAsync<List<RegistryChange>>(HttpStatusCode.OK);
        Assert.Equal(
            [LifecycleState.Suspended, LifecycleState.Live, LifecycleState.FlowTested, LifecycleState.AgreementSigned, LifecycleState.Registered],
            history.Where(h => h.To is not null).Select(h => h.To!.Value));
        Assert.All(history, h => Assert.Contains("admin-01", h.By, StringComparison.Ordinal));
        Assert.Equal("Supplier reported a data quality fault", history[0].Reason);
    }

    [Fact]
    public async Task Every_admin_change_is_in_the_audit_log_with_what_it_changed()
    {
        using var host = new GatewayHost(_issuer, [_acute]);
        var admin = Admin(host);

        await admin.PostJsonAsync("/admin/organisations", new OrganisationRequest("N85099", "Seacombe Surgery", OrganisationKind.GpPractice, _newPractice.BaseUrl, 1))
            .ExpectAsync<OrganisationView>(HttpStatusCode.Created);
        await admin.TransitionAsync("N85099", LifecycleState.Live).RefusedAsync(HttpStatusCode.Conflict);

        var adminEvents = host.AuditEvents().Where(e => e.Entity.Any(x => x.What?.Reference == "Organization/N85099")).ToList();
        Assert.Equal(2, adminEvents.Count);
        Assert.All(adminEvents, e => Assert.Equal("update", e.Subtype.Single().Code));
        Assert.Equal(AuditEvent.AuditEventOutcome.N0, adminEvents[0].Outcome);
        Assert.Equal(AuditEvent.AuditEventOutcome.N4, adminEvents[1].Outcome);
        Assert.Contains("can move to AgreementSigned, Withdrawn, not Live", adminEvents[1].OutcomeDesc, StringComparison.Ordinal);
        Assert.All(adminEvents, e => Assert.Equal("admin-01", e.Agent.First().Who.Identifier.Value));
    }

    [Fact]
    public async Task A_failed_flow_test_is_stored_and_blocks_promotion_saying_why()
    {
        var practice = new FhirSource("N85098", "Egremont Medical Centre", OrganisationKind.GpPractice).WithCapabilityStatement(["Condition"]);
        using var _ = practice;
        using var host = new GatewayHost(_issuer, [_acute], editRegistry: r =>
        {
            r.Organisations.Add(new RegistryDocument.OrganisationEntry { OdsCode = "N85098", Name = practice.Name, Kind = OrganisationKind.GpPractice, FhirBaseUrl = practice.BaseUrl, Phase = 1, State = LifecycleState.AgreementSigned });
            r.Agreements[0].Providers.Add("N85098");
            r.Agreements[0].Document = GatewayHost.SignedDocument;
        });
        var admin = Admin(host);

        var report = await admin.PostJsonAsync("/admin/organisations/N85098/flow-tests", new FlowTestRequest(Nhs)).ExpectAsync<FlowTestReport>(HttpStatusCode.Created);

        Assert.False(report.Passed);
        Assert.Contains("Test patient: the test patient was not found by NHS number", report.Summary, StringComparison.Ordinal);
        var refusal = await admin.TransitionAsync("N85098", LifecycleState.FlowTested).RefusedAsync(HttpStatusCode.Conflict);
        Assert.Contains($"The latest flow test ({report.Id}) failed: Test patient: the test patient was not found", refusal, StringComparison.Ordinal);
        var stored = await admin.GetAsync("/admin/organisations/N85098/flow-tests").ExpectAsync<List<FlowTestReport>>(HttpStatusCode.OK);
        Assert.Equal(report.Id, Assert.Single(stored).Id);
        Assert.DoesNotContain(Nhs, await admin.GetStringAsync("/admin/organisations/N85098/flow-tests"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_flow_test_fails_a_source_whose_items_do_not_conform_to_the_profiles_and_says_where()
    {
        // An allergy with no clinicalStatus breaks base R4's ait-1 (and so every profile built on it).
        using var practice = new FhirSource("N85097", "Moreton Health Clinic", OrganisationKind.GpPractice)
            .WithPatient(FhirSource.NewPatient("gp-9", Nhs), ClinicalData.Allergy("a9", "gp-9"))
            .WithCapabilityStatement(["AllergyIntolerance"]);
        using var host = new GatewayHost(_issuer, [_acute], editRegistry: r =>
            r.Organisations.Add(new RegistryDocument.OrganisationEntry { OdsCode = "N85097", Name = practice.Name, Kind = OrganisationKind.GpPractice, FhirBaseUrl = practice.BaseUrl, Phase = 1, State = LifecycleState.Registered }));

        var report = await Admin(host).PostJsonAsync("/admin/organisations/N85097/flow-tests", new FlowTestRequest(Nhs)).ExpectAsync<FlowTestReport>(HttpStatusCode.Created);

        Assert.False(report.Passed);
        var allergies = report.Steps.Single(s => s.Name == "AllergyIntolerance search");
        Assert.Contains(allergies.Findings, f => f.StartsWith("Bundle.entry[0] (AllergyIntolerance/a9) does not conform at AllergyIntolerance", StringComparison.Ordinal) && f.Contains("ait-1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FlowTest_SearchesNotDeclared_WarnsThenTriesThemAndPasses()
    {
        // The source declares no Patient search by identifier and only Condition by patient, yet answers them all, as the
        // federated read finds: a flow test tests by doing.
        _newPractice.WithCapabilityStatement(["Condition"], patientSearch: false);
        using var host = new GatewayHost(_issuer, [_acute], editRegistry: r =>
            r.Organisations.Add(new RegistryDocument.OrganisationEntry { OdsCode = "N85099", Name = _newPractice.Name, Kind = OrganisationKind.GpPractice, FhirBaseUrl = _newPractice.BaseUrl, Phase = 1, State = LifecycleState.Registered }));

        var report = await Admin(host).PostJsonAsync("/admin/organisations/N85099/flow-tests", new FlowTestRequest(Nhs)).ExpectAsync<FlowTestReport>(HttpStatusCode.Created);

        var capability = report.Steps[0];
        Assert.True(capability.Passed);
        Assert.Contains("warning: Patient search by identifier (NHS number) is not declared; it is tried anyway", capability.Findings);
        Assert.True(report.Steps.Single(s => s.Name == "Test patient").Passed);
        Assert.Equal(2 + FederationOptions.DefaultRecordTypes.Count, report.Steps.Count);
        Assert.True(report.Passed, report.Summary);
    }

    [Fact]
    public async Task Two_admins_editing_the_same_organisation_one_wins_and_the_other_is_told_to_reread()
    {
        using var host = new GatewayHost(_issuer, [_acute]);
        var first = Admin(host);
        var second = Admin(host);
        using var read = await first.GetAsync("/admin/organisations/RBL");
        var etag = read.Headers.ETag!.Tag;

        async Task<HttpStatusCode> UpdateAsync(HttpClient client, string name)
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, "/admin/organisations/RBL")
            {
                Content = System.Net.Http.Json.JsonContent.Create(new OrganisationRequest("RBL", name, OrganisationKind.AcuteTrust, _acute.BaseUrl, 1), options: AdminApi.Json),
            };
            request.Headers.IfMatch.Add(new System.Net.Http.Headers.EntityTagHeaderValue(etag));
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }

        var results = await Task.WhenAll(UpdateAsync(first, "WUTH (Arrowe Park)"), UpdateAsync(second, "WUTH (Clatterbridge)"));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.PreconditionFailed], results.Order());
        var now = await first.GetAsync("/admin/organisations/RBL").ExpectAsync<OrganisationView>(HttpStatusCode.OK);
        Assert.Contains(now.Name, new[] { "WUTH (Arrowe Park)", "WUTH (Clatterbridge)" });
        Assert.Equal(2, now.Revision);
    }

    [Fact]
    public async Task An_update_without_If_Match_is_refused_with_428()
    {
        using var host = new GatewayHost(_issuer, [_acute]);

        var detail = await Admin(host).PutAsJsonAsync("/admin/organisations/RBL", new OrganisationRequest("RBL", "Renamed", OrganisationKind.AcuteTrust, _acute.BaseUrl, 1), AdminApi.Json)
            .RefusedAsync(HttpStatusCode.PreconditionRequired);

        Assert.Contains("Send If-Match", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_admins_suspending_at_once_one_succeeds_and_the_other_is_refused()
    {
        using var host = new GatewayHost(_issuer, [_acute]);

        var results = await Task.WhenAll(
            Admin(host).TransitionAsync("RBL", LifecycleState.Suspended),
            Admin(host).TransitionAsync("RBL", LifecycleState.Suspended));

        // With the same ETag the second is told the organisation changed since (412); having read the new one, that it is already suspended (409).
        var statuses = results.Select(r => r.StatusCode).Order().ToList();
        Assert.Equal(HttpStatusCode.OK, statuses[0]);
        Assert.Contains(statuses[1], new[] { HttpStatusCode.Conflict, HttpStatusCode.PreconditionFailed });
    }

    [Fact]
    public async Task Registration_checks_every_field_and_reports_every_problem()
    {
        using var host = new GatewayHost(_issuer, [_acute], settings: new() { ["Registry:AllowHttpSources"] = "false" },
            editRegistry: r => r.Organisations.ForEach(o => o.FhirBaseUrl = o.FhirBaseUrl.Replace("http://", "https://", StringComparison.Ordinal)));

        var detail = await Admin(host).PostJsonAsync("/admin/organisations", new OrganisationRequest("N8-5", "", OrganisationKind.GpPractice, "http://gp.example/fhir", 0, TimeoutSeconds: 500))
            .RefusedAsync(HttpStatusCode.BadRequest);

        Assert.Contains("'N8-5' is not an ODS code", detail, StringComparison.Ordinal);
        Assert.Contains("name is required", detail, StringComparison.Ordinal);
        Assert.Contains("plain http; source URLs must be https outside Development", detail, StringComparison.Ordinal);
        Assert.Contains("phase 0 is not defined", detail, StringComparison.Ordinal);
        Assert.Contains("timeoutSeconds must be between", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_clinician_cannot_use_the_admin_API()
    {
        using var host = new GatewayHost(_issuer, [_acute]);

        var detail = await Clinician(host).GetAsync("/admin/organisations").RefusedAsync(HttpStatusCode.Forbidden);

        Assert.Contains("OnboardingAdmin", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Phases_show_their_organisations_by_state_and_a_held_phase_stops_promotion()
    {
        using var host = new GatewayHost(_issuer, [_acute], editRegistry: r =>
        {
            r.Phases = [new() { Number = 1, Name = "Hospital and pilot practices" }, new() { Number = 2, Name = "Every practice with a DSA" }];
            r.Organisations.Add(new RegistryDocument.OrganisationEntry { OdsCode = "N85099", Name = "Seacombe Surgery", Kind = OrganisationKind.GpPractice, FhirBaseUrl = _newPractice.BaseUrl, Phase = 2, State = LifecycleState.FlowTested, LastFlowTest = new FlowTestSummary("ft", DateTimeOffset.UtcNow, true, "ok") });
        });
        var admin = Admin(host);

        await admin.PutAsJsonAsync("/admin/phases/2", new PhaseRequest("Every practice with a DSA", PhaseStatus.Held, "Testing issues at two practices"), AdminApi.Json).ExpectAsync<Phase>(HttpStatusCode.OK);
        var phases = await admin.GetAsync("/admin/phases").ExpectAsync<List<PhaseView>>(HttpStatusCode.OK);

        Assert.Equal([1, 2], phases.Select(p => p.Number));
        Assert.Equal(1, phases[0].States[LifecycleState.Live]);
        Assert.Equal(PhaseStatus.Held, phases[1].Status);
        Assert.Equal(1, phases[1].States[LifecycleState.FlowTested]);
        Assert.Contains("Phase 2 (Every practice with a DSA) is held", await admin.TransitionAsync("N85099", LifecycleState.Pilot).RefusedAsync(HttpStatusCode.Conflict), StringComparison.Ordinal);
        var listed = await admin.GetAsync("/admin/organisations?phase=2&state=FlowTested").ExpectAsync<List<OrganisationView>>(HttpStatusCode.OK);
        Assert.Equal("N85099", Assert.Single(listed).OdsCode);
    }

    [Fact]
    public async Task The_admin_API_publishes_an_OpenAPI_document()
    {
        using var host = new GatewayHost(_issuer, [_acute]);

        var document = await host.CreateClient(token: null).GetStringAsync("/openapi/admin.json");

        Assert.Contains("/admin/organisations/{odsCode}/transitions", document, StringComparison.Ordinal);
        Assert.Contains("/admin/organisations/{odsCode}/agreements/{id}/document", document, StringComparison.Ordinal);
        Assert.DoesNotContain("wcr-getrecord", document, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _acute.Dispose();
        _newPractice.Dispose();
        _issuer.Dispose();
    }
}
