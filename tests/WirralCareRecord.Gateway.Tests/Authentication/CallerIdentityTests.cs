using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Authentication;

public sealed class CallerIdentityTests
{
    private const string NurseEntry = """{"person_orgid":"555254239107","person_roleid":"555254240100","org_code":"rbl","role_name":"\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"","role_code":"S8000:G8000:R8001","activity_codes":["B0428","B0380"]}""";
    private const string ClerkEntry = """{"person_orgid":"555254239107","person_roleid":"555254240200","org_code":"N85001","role_name":"\"Admin\":\"Clerical\":\"Clerical Access Role\"","role_code":"S8001:G8005:R8010","activity_codes":["B0264"]}""";

    private static readonly GatewayAuthenticationOptions Options = new();

    private static ClaimsPrincipal User(params Claim[] claims) =>
        new(new ClaimsIdentity([new Claim("sub", "user-0001"), .. claims], "Bearer"));

    private static Claim Json(string type, string value) => new(type, value, JsonClaimValueTypes.Json);

    [Fact]
    public async Task From_RealCis2TokenAsJsonWebTokenHandlerReadsIt_TakesRoleAndOrganisationFromSelectedEntry()
    {
        // The shape the gateway's JWT bearer handlers produce: one JSON claim per nhsid_nrbac_roles object.
        using var issuer = new TestIssuer();
        var token = issuer.CreateToken(role: null, ods: null, extraClaims: Cis2Token.Claims(
            "555254240300",
            Cis2Token.Role("555254240100", "N85099", Cis2Token.Clerical, "Clerical Access Role"),
            Cis2Token.Role("555254240300", "RBL", Cis2Token.Nurse, "Nurse Access Role", "B0428", "B0380")));
        var validated = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = issuer.Issuer,
            ValidAudience = TestIssuer.ClientId,
            IssuerSigningKey = issuer.Key,
        });
        Assert.True(validated.IsValid, validated.Exception?.Message);
        var user = new ClaimsPrincipal(validated.ClaimsIdentity);

        var caller = CallerIdentity.From(user, Options);

        Assert.Equal(2, user.FindAll("nhsid_nrbac_roles").Count());
        Assert.Equal(["Clinician"], caller.Roles);
        Assert.Equal("RBL", caller.OdsCode);
        Assert.Equal("555254240300", caller.Cis2.Selected.PersonRoleId);
        Assert.Equal(["B0428", "B0380"], caller.Cis2.Selected.ActivityCodes);
    }

    [Fact]
    public void From_NrbacRolesAsOneJsonArrayString_ReadsTheSelectedEntry()
    {
        var user = User(new Claim("selected_roleid", "555254240100"), new Claim("nhsid_nrbac_roles", $"[{ClerkEntry},{NurseEntry}]"));

        var caller = CallerIdentity.From(user, Options);

        Assert.Equal(["Clinician"], caller.Roles);
        Assert.Equal("RBL", caller.OdsCode);
    }

    [Fact]
    public void From_EntraToken_ReadsAppRolesAndOdsClaimAsBefore()
    {
        var user = User(new Claim("oid", "entra-oid"), new Claim("roles", "Clinician"), new Claim("roles", "Auditor"), new Claim("ods", " n85001 "), new Claim("name", "Dr Test"));

        var caller = CallerIdentity.From(user, Options);

        Assert.Equal("entra-oid", caller.UserId);
        Assert.Equal("Dr Test", caller.DisplayName);
        Assert.Equal(["Clinician", "Auditor"], caller.Roles);
        Assert.Equal("N85001", caller.OdsCode);
        Assert.Null(caller.Cis2);
        Assert.Null(caller.OrganisationRefusal);
        Assert.Equal("This needs the OnboardingAdmin role, which your sign-in does not have.", caller.RoleRefusal("OnboardingAdmin"));
    }

    [Fact]
    public void From_Cis2TokenAlsoCarryingAppRolesAndOds_IgnoresThem()
    {
        var user = User(new Claim("roles", "Clinician"), new Claim("ods", "N85001"), new Claim("selected_roleid", "555254240200"), Json("nhsid_nrbac_roles", ClerkEntry));

        var caller = CallerIdentity.From(user, Options);

        Assert.Empty(caller.Roles);
        Assert.Equal("N85001", caller.OdsCode);
        Assert.Equal(
            "Your selected NHS CIS2 role, Clerical Access Role (R8010) at N85001, does not give the gateway's Clinician role, which this needs. Sign in choosing a role that does.",
            caller.RoleRefusal("Clinician"));
    }

    [Fact]
    public void From_SelectedRoleIdMatchingNoEntry_GivesNoRoleAndNoOrganisation()
    {
        var user = User(new Claim("ods", "N85001"), new Claim("selected_roleid", "999"), Json("nhsid_nrbac_roles", NurseEntry));

        var caller = CallerIdentity.From(user, Options);

        Assert.Empty(caller.Roles);
        Assert.Null(caller.OdsCode);
        Assert.Contains("selected role (999) is not one of the roles in the token", caller.RoleRefusal("Clinician"), StringComparison.Ordinal);
        Assert.NotNull(caller.OrganisationRefusal);
    }

    [Fact]
    public void From_NrbacRolesWithoutSelectedRoleId_GivesNoRoleEvenWithOneEntry()
    {
        var user = User(Json("nhsid_nrbac_roles", NurseEntry));

        var caller = CallerIdentity.From(user, Options);

        Assert.Empty(caller.Roles);
        Assert.Null(caller.OdsCode);
        Assert.Contains("no selected_roleid claim", caller.RoleRefusal("Clinician"), StringComparison.Ordinal);
    }

    [Fact]
    public void From_MalformedEntryBesideTheSelectedOne_StillReadsTheSelectedOne()
    {
        var user = User(new Claim("selected_roleid", "555254240100"), new Claim("nhsid_nrbac_roles", "{not json"), Json("nhsid_nrbac_roles", """["not an object"]"""), Json("nhsid_nrbac_roles", NurseEntry));

        var caller = CallerIdentity.From(user, Options);

        Assert.Equal(["Clinician"], caller.Roles);
    }

    [Theory]
    [InlineData("R8001", null, "Auditor", true)]
    [InlineData("G8000", null, "Auditor", true)]
    [InlineData("R800", null, "Auditor", false)]
    [InlineData("S8000:G8000", null, "Auditor", false)]
    [InlineData(null, "B0380", "Auditor", true)]
    [InlineData("R8001", "B0380", "Auditor", true)]
    [InlineData("R8001", "B9999", "Auditor", false)]
    [InlineData("R8000", "B0380", "Auditor", false)]
    public void From_ConfiguredMapping_MatchesRoleCodePartsAndActivityCodes(string? roleCode, string? activityCode, string gatewayRole, bool matches)
    {
        var options = new GatewayAuthenticationOptions { Cis2 = { RoleMappings = [new() { RoleCode = roleCode, ActivityCode = activityCode, GatewayRole = gatewayRole }] } };
        var user = User(new Claim("selected_roleid", "555254240100"), Json("nhsid_nrbac_roles", NurseEntry));

        var caller = CallerIdentity.From(user, options);

        Assert.Equal(matches ? [gatewayRole] : [], caller.Roles);
    }

    [Fact]
    public void Options_MappingToUnknownGatewayRole_FailValidation()
    {
        var options = new GatewayAuthenticationOptions { Cis2 = { RoleMappings = [new() { RoleCode = "R8000", GatewayRole = "Doctor" }] } };

        var result = new DataAnnotationValidateOptions<GatewayAuthenticationOptions>(null).Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("GatewayRole must be one of Clinician, OnboardingAdmin or Auditor", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_Defaults_MapTheDirectCareAccessRolesToClinician()
    {
        var result = new DataAnnotationValidateOptions<GatewayAuthenticationOptions>(null).Validate(null, Options);

        Assert.True(result.Succeeded);
        Assert.Equal(["R8000", "R8001", "R8003"], Options.Cis2.EffectiveRoleMappings.Select(m => m.RoleCode));
        Assert.All(Options.Cis2.EffectiveRoleMappings, m => Assert.Equal("Clinician", m.GatewayRole));
    }
}
