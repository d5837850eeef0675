using System.Net;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Authentication;

/// <summary>NHS CIS2-shaped tokens, signed by the test issuer, through the real gateway.</summary>
public sealed class Cis2TokenTests : IDisposable
{
    private const string RecordUrl = "/fhir/Patient/$wcr-getrecord?patientNHSNumber=9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);

    public Cis2TokenTests() => _gp.WithPatient(FhirSource.NewPatient("gp-1", "9000000009"));

    private GatewayHost Host(Dictionary<string, string?>? settings = null) =>
        new(_issuer, [_gp], registry => registry.Organisations.Add(new()
        {
            OdsCode = "N85099", Name = "Unsigned practice", Kind = OrganisationKind.GpPractice, FhirBaseUrl = "http://127.0.0.1:9/fhir", State = LifecycleState.Registered,
        }), settings);

    // A CIS2 token carries no Entra app roles or ods claim; role: null and ods: null leave them out.
    private string Token(string selectedRoleId, params Dictionary<string, object>[] roles) =>
        _issuer.CreateToken(role: null, ods: null, extraClaims: Cis2Token.Claims(selectedRoleId, roles));

    [Fact]
    public async Task GetRecord_Cis2NurseRoleAtOrganisationWithAgreement_Returns200()
    {
        using var host = Host();

        var response = await host.CreateClient(Token("555254240100", Cis2Token.Role("555254240100", "N85001", Cis2Token.Nurse, "Nurse Access Role", "B0428", "B0380")))
            .GetAsync(RecordUrl);

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.Contains(bundle.Entry, e => e.Resource is Patient { Id: "gp-1" });
        Assert.NotEmpty(_gp.RequestedPaths);
    }

    [Fact]
    public async Task GetRecord_Cis2SelectedRoleNotMapped_Returns403SayingTheRoleIsMissing()
    {
        using var host = Host();

        var response = await host.CreateClient(Token("555254240200", Cis2Token.Role("555254240200", "N85001", Cis2Token.Clerical, "Clerical Access Role")))
            .GetAsync(RecordUrl);

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains("Your selected NHS CIS2 role, Clerical Access Role (R8010) at N85001, does not give the gateway's Clinician role", outcome.Text(), StringComparison.Ordinal);
        Assert.Equal(AuditEvent.AuditEventOutcome.N4, Assert.Single(host.AuditEvents()).Outcome);
        Assert.Empty(_gp.RequestedPaths);
    }

    [Fact]
    public async Task GetRecord_Cis2TokenAlsoCarryingEntraRolesAndOds_UsesOnlyTheSelectedCis2Role()
    {
        // The CIS2 shape wins: app roles and an ods claim in the same token cannot widen the selected role.
        using var host = Host();
        var token = _issuer.CreateToken(
            role: "Clinician",
            ods: "N85001",
            extraClaims: Cis2Token.Claims("555254240200", Cis2Token.Role("555254240200", "N85001", Cis2Token.Clerical, "Clerical Access Role")));

        var response = await host.CreateClient(token).GetAsync(RecordUrl);

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains("Clinician role", outcome.Text(), StringComparison.Ordinal);
        Assert.Empty(_gp.RequestedPaths);
    }

    [Fact]
    public async Task GetRecord_Cis2SelectedRoleIdMatchesNoEntry_Returns403WithoutRoleOrOrganisation()
    {
        using var host = Host();
        var token = _issuer.CreateToken(
            role: "Clinician",
            ods: "N85001",
            extraClaims: Cis2Token.Claims("999999999999", Cis2Token.Role("555254240100", "N85001", Cis2Token.Clinical, "Clinical Practitioner Access Role")));

        var response = await host.CreateClient(token).GetAsync(RecordUrl);

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains("selected role (999999999999) is not one of the roles in the token", outcome.Text(), StringComparison.Ordinal);
        Assert.DoesNotContain("ODS code claim", outcome.Text(), StringComparison.Ordinal);
        Assert.Empty(_gp.RequestedPaths);
    }

    [Fact]
    public async Task GetRecord_Cis2OrganisationWithoutAgreement_Returns403NamingTheOrganisation()
    {
        using var host = Host();

        var response = await host.CreateClient(Token("555254240100", Cis2Token.Role("555254240100", "N85099", Cis2Token.Clinical, "Clinical Practitioner Access Role")))
            .GetAsync(RecordUrl);

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains("N85099 has no data sharing agreement", outcome.Text(), StringComparison.Ordinal);
        Assert.Empty(_gp.RequestedPaths);
    }

    [Fact]
    public async Task GetRecord_Cis2TwoRoles_TheSelectedOneDecidesTheOrganisation()
    {
        using var host = Host();
        var unsigned = Cis2Token.Role("555254240100", "N85099", Cis2Token.Clinical, "Clinical Practitioner Access Role");
        var signed = Cis2Token.Role("555254240300", "N85001", Cis2Token.Clinical, "Clinical Practitioner Access Role");

        var atSigned = await host.CreateClient(Token("555254240300", unsigned, signed)).GetAsync(RecordUrl);
        var atUnsigned = await host.CreateClient(Token("555254240100", unsigned, signed)).GetAsync(RecordUrl);

        Assert.Equal(HttpStatusCode.OK, atSigned.StatusCode);
        var outcome = await FhirAssert.OutcomeAsync(atUnsigned, HttpStatusCode.Forbidden);
        Assert.Contains("N85099", outcome.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRecord_Cis2RoleMappingsConfigured_ReplaceTheDefaults()
    {
        using var host = Host(new()
        {
            ["Authentication:Cis2:RoleMappings:0:RoleCode"] = "R8010",
            ["Authentication:Cis2:RoleMappings:0:GatewayRole"] = "Clinician",
        });
        var clerk = Token("555254240200", Cis2Token.Role("555254240200", "N85001", Cis2Token.Clerical, "Clerical Access Role"));
        var nurse = Token("555254240100", Cis2Token.Role("555254240100", "N85001", Cis2Token.Nurse, "Nurse Access Role"));

        var clerkResponse = await host.CreateClient(clerk).GetAsync(RecordUrl);
        var nurseResponse = await host.CreateClient(nurse).GetAsync(RecordUrl);

        Assert.Equal(HttpStatusCode.OK, clerkResponse.StatusCode);
        var outcome = await FhirAssert.OutcomeAsync(nurseResponse, HttpStatusCode.Forbidden);
        Assert.Contains("Clinician role", outcome.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRecord_Cis2ActivityCodeMapping_GrantsOnlyRolesHoldingTheActivity()
    {
        using var host = Host(new()
        {
            ["Authentication:Cis2:RoleMappings:0:ActivityCode"] = "B0380",
            ["Authentication:Cis2:RoleMappings:0:GatewayRole"] = "Clinician",
        });
        var withActivity = Token("555254240200", Cis2Token.Role("555254240200", "N85001", Cis2Token.Clerical, "Clerical Access Role", "B0380"));
        var withoutActivity = Token("555254240100", Cis2Token.Role("555254240100", "N85001", Cis2Token.Clinical, "Clinical Practitioner Access Role", "B0428"));

        var allowed = await host.CreateClient(withActivity).GetAsync(RecordUrl);
        var refused = await host.CreateClient(withoutActivity).GetAsync(RecordUrl);

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        await FhirAssert.OutcomeAsync(refused, HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("Doctor", "GatewayRole must be one of Clinician, OnboardingAdmin or Auditor")]
    [InlineData("", "GatewayRole")]
    public void Gateway_Cis2MappingToUnknownGatewayRole_RefusesToStart(string gatewayRole, string expected)
    {
        using var host = Host(new()
        {
            ["Authentication:Cis2:RoleMappings:0:RoleCode"] = "R8000",
            ["Authentication:Cis2:RoleMappings:0:GatewayRole"] = gatewayRole,
        });

        var error = Record.Exception(() => host.CreateClient(token: null));

        Assert.NotNull(error);
        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Gateway_Cis2MappingWithNeitherCode_RefusesToStart()
    {
        using var host = Host(new()
        {
            ["Authentication:Cis2:RoleMappings:0:GatewayRole"] = "Clinician",
        });

        var error = Record.Exception(() => host.CreateClient(token: null));

        Assert.NotNull(error);
        Assert.Contains("names neither a RoleCode nor an ActivityCode", error.ToString(), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _gp.Dispose();
        _issuer.Dispose();
    }
}
