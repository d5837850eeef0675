using System.Net;
using System.Text.Json;
using Hl7.Fhir.Model;
using Microsoft.Extensions.DependencyInjection;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Storage;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Onboarding;

/// <summary>
/// Issue 19: the organisation's SMART record system (the issuer a context launch names) is read and set through the
/// admin API, checked as the launch checks it, kept in the registry document, and audited like every other change.
/// </summary>
public sealed class RecordSystemAdminTests : IDisposable
{
    private const string Practice = "N85099";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Surgery", OrganisationKind.GpPractice);

    private HttpClient Admin(GatewayHost host) => host.CreateClient(_issuer.CreateToken(role: "OnboardingAdmin", ods: "X26", userId: "admin-alice"));

    private static OrganisationRequest Seacombe(RecordSystem? system) =>
        new(Practice, "Seacombe Surgery", OrganisationKind.GpPractice, "https://fhir.seacombe.example/fhir", 1, RecordSystem: system);

    [Fact]
    public async Task RecordSystem_SetOnRegisterThenChanged_IsShownKeptInTheRegistryHistoryAndAudit()
    {
        using var host = new GatewayHost(_issuer, [_gp], registry => registry.Organisations[0].RecordSystem = new RecordSystem("https://emis.riverside.example/fhir", "wcr"));
        var admin = Admin(host);

        var created = await admin.PostJsonAsync("/admin/organisations", Seacombe(new RecordSystem("https://ehr.seacombe.example/fhir/", " wcr-gateway ")))
            .ExpectAsync<OrganisationView>(HttpStatusCode.Created);
        Assert.Equal(new RecordSystem("https://ehr.seacombe.example/fhir", "wcr-gateway"), created.RecordSystem);
        Assert.Equal(new RecordSystem("https://emis.riverside.example/fhir", "wcr"), (await admin.GetAsync("/admin/organisations/N85001").ExpectAsync<OrganisationView>(HttpStatusCode.OK)).RecordSystem);

        var changed = await admin.SendWithETagAsync(HttpMethod.Put, Practice, $"/admin/organisations/{Practice}", Seacombe(new RecordSystem("https://systmone.seacombe.example/fhir", "wcr-2")), await admin.ETagAsync(Practice))
            .ExpectAsync<OrganisationView>(HttpStatusCode.OK);
        Assert.Equal(new RecordSystem("https://systmone.seacombe.example/fhir", "wcr-2"), changed.RecordSystem);
        Assert.Equal(changed.RecordSystem, (await admin.GetAsync($"/admin/organisations/{Practice}").ExpectAsync<OrganisationView>(HttpStatusCode.OK)).RecordSystem);

        // Kept in the registry document, which every gateway instance reads.
        var stored = await host.Services.GetRequiredService<IBlobStores>()[StorageContainer.Registry].ReadAsync("registry.json", CancellationToken.None);
        var document = JsonSerializer.Deserialize<RegistryDocument>(stored!.Content.ToString(), RegistryDocument.JsonOptions)!;
        Assert.Equal("https://systmone.seacombe.example/fhir", document.Organisations.Single(o => o.OdsCode == Practice).RecordSystem?.Issuer);

        const string said = "recordSystem: https://ehr.seacombe.example/fhir (client wcr-gateway) → https://systmone.seacombe.example/fhir (client wcr-2)";
        var history = await admin.GetAsync($"/admin/organisations/{Practice}/history").ExpectAsync<List<RegistryChange>>(HttpStatusCode.OK);
        Assert.Contains(history, h => h.Action == "details updated" && h.Reason.Contains(said, StringComparison.Ordinal));
        var audited = host.AuditEvents().Where(e => e.Entity.Any(x => x.What?.Reference == $"Organization/{Practice}")).ToList();
        Assert.Contains(audited, e => e.Outcome == AuditEvent.AuditEventOutcome.N0 && e.OutcomeDesc.Contains(said, StringComparison.Ordinal) && e.Agent.First().Who.Identifier.Value == "admin-alice");

        // Removed by leaving it out of a PUT, as every other detail is.
        var removed = await admin.SendWithETagAsync(HttpMethod.Put, Practice, $"/admin/organisations/{Practice}", Seacombe(null), await admin.ETagAsync(Practice))
            .ExpectAsync<OrganisationView>(HttpStatusCode.OK);
        Assert.Null(removed.RecordSystem);
    }

    [Fact]
    public async Task RecordSystem_SetByAClinician_Is403AndChangesNothing()
    {
        using var host = new GatewayHost(_issuer, [_gp]);
        var clinician = host.CreateClient(_issuer.CreateToken(userId: "dr-mallory"));

        using var response = await clinician.PostJsonAsync("/admin/organisations", Seacombe(new RecordSystem("https://ehr.attacker.example/fhir", "wcr")));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin(host).GetAsync($"/admin/organisations/{Practice}")).StatusCode);
    }

    [Theory]
    [InlineData("not a url", "wcr", "recordSystem.issuer")]
    [InlineData("ftp://ehr.seacombe.example/fhir", "wcr", "recordSystem.issuer")]
    [InlineData("https://ehr.seacombe.example/fhir?next=https://attacker.example", "wcr", "query or fragment")]
    [InlineData("https://ehr.seacombe.example/fhir", "", "recordSystem.clientId")]
    [InlineData("https://ehr.seacombe.example/fhir", "wcr gateway", "recordSystem.clientId")]
    [InlineData("https://EMIS.riverside.example/fhir/", "wcr", "already N85001's record system")]
    public async Task RecordSystem_BadValue_Is400SayingWhyAndChangesNothing(string issuer, string clientId, string expected)
    {
        using var host = new GatewayHost(_issuer, [_gp], registry => registry.Organisations[0].RecordSystem = new RecordSystem("https://emis.riverside.example/fhir", "wcr"));
        var admin = Admin(host);

        var detail = await admin.PostJsonAsync("/admin/organisations", Seacombe(new RecordSystem(issuer, clientId))).RefusedAsync(HttpStatusCode.BadRequest);
        if (!expected.StartsWith("already", StringComparison.Ordinal))
        {
            // The same value on an update of an organisation that has a record system: refused, and the old one kept.
            Assert.Contains(expected, await admin.SendWithETagAsync(HttpMethod.Put, "N85001", "/admin/organisations/N85001",
                new OrganisationRequest("N85001", "Riverside Surgery", OrganisationKind.GpPractice, _gp.BaseUrl, 1, RecordSystem: new RecordSystem(issuer, clientId)), await admin.ETagAsync("N85001"))
                .RefusedAsync(HttpStatusCode.BadRequest), StringComparison.Ordinal);
        }

        Assert.Contains(expected, detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/admin/organisations/{Practice}")).StatusCode);

        Assert.Equal("https://emis.riverside.example/fhir", (await admin.GetAsync("/admin/organisations/N85001").ExpectAsync<OrganisationView>(HttpStatusCode.OK)).RecordSystem?.Issuer);
    }

    [Fact]
    public async Task RecordSystem_PlainHttpOutsideDevelopment_Is400()
    {
        // Staging: not Development, and not a test rig allowing plain http; the registry's one source is https so it starts.
        using var host = new GatewayHost(_issuer, [_gp], registry => registry.Organisations[0].FhirBaseUrl = "https://fhir.riverside.example/fhir",
            settings: new() { ["Registry:AllowHttpSources"] = "false" }, environment: "Staging");
        var admin = Admin(host);

        var detail = await admin.PostJsonAsync("/admin/organisations", Seacombe(new RecordSystem("http://ehr.seacombe.example/fhir", "wcr"))).RefusedAsync(HttpStatusCode.BadRequest);

        Assert.Contains("recordSystem.issuer", detail, StringComparison.Ordinal);
        Assert.Contains("plain http", detail, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _gp.Dispose();
        _issuer.Dispose();
    }
}
