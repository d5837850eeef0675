using System.Net;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Onboarding;

/// <summary>Issue 16, finding 3: a flow test is not an oracle. It fetches designated test patients only, respects objections, and its AuditEvent names the patient.</summary>
public sealed class FlowTestPatientTests : IDisposable
{
    private const string TestPatient = "9000000009";
    private const string RealLookingPatient = "9000000033";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);

    public FlowTestPatientTests() => _acute.WithPatient(FhirSource.NewPatient("pas-1", TestPatient), ClinicalData.Condition("c1", "pas-1"))
        .WithPatient(FhirSource.NewPatient("pas-2", RealLookingPatient))
        .WithCapabilityStatement(FederationOptions.DefaultRecordTypes);

    private HttpClient Admin(GatewayHost host) => host.CreateClient(_issuer.CreateToken(role: "OnboardingAdmin", ods: "X26", userId: "admin-01"));

    [Fact]
    public async Task FlowTest_PatientNotDesignated_IsRefusedWithoutAskingTheSourceAndAudited()
    {
        using var host = new GatewayHost(_issuer, [_acute]);
        var asked = _acute.DataRequests.Count;

        var detail = await Admin(host).PostJsonAsync("/admin/organisations/RBL/flow-tests", new FlowTestRequest(RealLookingPatient)).RefusedAsync(HttpStatusCode.BadRequest);

        Assert.Contains("not a designated test patient", detail, StringComparison.Ordinal);
        Assert.DoesNotContain(RealLookingPatient, detail, StringComparison.Ordinal);
        Assert.Equal(asked, _acute.DataRequests.Count);
        var refused = host.AuditEvents().Single(e => e.OutcomeDesc.StartsWith("flow test refused", StringComparison.Ordinal));
        Assert.Equal(RealLookingPatient, refused.Entity.Single(x => x.Role?.Code == "1").What.Identifier.Value);
        Assert.Equal("admin-01", refused.Agent.First().Who.Identifier.Value);
    }

    [Fact]
    public async Task FlowTest_TestPatientHasObjected_IsRefused()
    {
        using var host = new GatewayHost(_issuer, [_acute], editRegistry: r => r.Objections.Add(new() { NhsNumber = TestPatient, RecordedOn = new DateOnly(2026, 3, 5), RecordedBy = "reception" }));

        var detail = await Admin(host).PostJsonAsync("/admin/organisations/RBL/flow-tests", new FlowTestRequest(TestPatient)).RefusedAsync(HttpStatusCode.Conflict);

        Assert.Contains("objected", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FlowTest_DesignatedPatient_RunsAndItsAuditEventNamesThePatient()
    {
        using var host = new GatewayHost(_issuer, [_acute]);

        var report = await Admin(host).PostJsonAsync("/admin/organisations/RBL/flow-tests", new FlowTestRequest()).ExpectAsync<FlowTestReport>(HttpStatusCode.Created);

        Assert.True(report.Passed, report.Summary);
        var audited = host.AuditEvents().Single(e => e.OutcomeDesc.StartsWith("flow test passed", StringComparison.Ordinal));
        Assert.Equal(TestPatient, audited.Entity.Single(x => x.Role?.Code == "1").What.Identifier.Value);
        Assert.Contains(audited.Entity, x => x.What?.Reference == "Organization/RBL");
    }

    [Fact]
    public void TestPatients_RealNumberInProduction_IsRefusedAtStartUp()
    {
        var options = new RegistryOptions { TestPatients = ["4857773457"] };

        Assert.NotNull(TestPatients.Problem(options, new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = "Production" }));
        Assert.Null(TestPatients.Problem(new RegistryOptions { TestPatients = [TestPatient] }, new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = "Production" }));
    }

    public void Dispose()
    {
        _acute.Dispose();
        _issuer.Dispose();
    }
}
