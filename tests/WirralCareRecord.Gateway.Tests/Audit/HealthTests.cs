using System.Net;
using System.Net.Http.Json;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Audit;

public sealed class HealthTests : IDisposable
{
    private const string Nhs = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);

    [Fact]
    public async Task Health_LiveAndReady_AnswerWithoutSignIn()
    {
        using var host = new GatewayHost(_issuer, [_gp]);
        var client = host.CreateClient(token: null);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task HealthReady_AuditStoreNotWritable_IsUnhealthyButLiveIsNot()
    {
        using var host = new GatewayHost(_issuer, [_gp]);
        using var broken = host.BreakAuditStorage();
        var client = host.CreateClient(token: null);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task SourceFailingHealthChecks_IsReportedUnhealthyAndSkippedByTheFederatedRead()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        _acute.AnswerEverything(HttpStatusCode.InternalServerError, "{}", FhirJson.ContentType);
        using var host = new GatewayHost(_issuer, [_gp, _acute], settings: new() { ["Federation:SourceHealthCheckInterval"] = "00:00:00.500" });
        var admin = host.CreateClient(_issuer.CreateToken(role: "OnboardingAdmin"));

        // Poll until YARP's probes have marked RBL unhealthy (two failures in a row); the assertions below do not depend on timing.
        string? state = null;
        for (var attempt = 0; attempt < 100 && state != "Unhealthy"; attempt++)
        {
            await Task.Delay(100);
            var sources = await admin.GetFromJsonAsync<List<Dictionary<string, string>>>("/health/sources");
            state = sources!.Single(s => s["odsCode"] == "RBL")["health"];
        }

        Assert.Equal("Unhealthy", state);
        var before = _acute.DataRequests.Count;
        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.Equal(before, _acute.DataRequests.Count);
        var issue = Assert.Single(bundle.SourceIssues());
        Assert.Equal("unavailable", issue.Details.Coding.Single().Code);
        Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "c1" });
    }

    [Fact]
    public async Task HealthSources_Clinician_Returns403()
    {
        using var host = new GatewayHost(_issuer, [_gp]);

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync("/health/sources");

        await FhirAssert.OutcomeAsync(response, HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("Operator")]
    [InlineData("OnboardingAdmin")]
    public async Task Source_health_is_open_to_the_platform_team_and_onboarding_staff(string role)
    {
        using var host = new GatewayHost(_issuer, [_gp]);

        var sources = await host.CreateClient(_issuer.CreateToken(role: role, ods: null)).GetFromJsonAsync<List<Dictionary<string, string>>>("/health/sources");

        Assert.Equal("N85001", Assert.Single(sources!)["odsCode"]);
    }

    public void Dispose()
    {
        _gp.Dispose();
        _acute.Dispose();
        _issuer.Dispose();
    }
}
