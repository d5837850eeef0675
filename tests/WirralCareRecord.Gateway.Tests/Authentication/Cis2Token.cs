namespace WirralCareRecord.Gateway.Tests.Authentication;

/// <summary>The claims of an NHS CIS2 token: the user's RBAC roles (<c>nhsid_nrbac_roles</c>) and the one selected at sign-in.</summary>
internal static class Cis2Token
{
    public const string Clinical = "S8000:G8000:R8000";
    public const string Nurse = "S8000:G8000:R8001";
    public const string Clerical = "S8001:G8005:R8010";

    /// <summary>One <c>nhsid_nrbac_roles</c> entry, shaped as CIS2 issues it.</summary>
    public static Dictionary<string, object> Role(string personRoleId, string orgCode, string roleCode, string accessRoleName, params string[] activityCodes) => new()
    {
        ["person_orgid"] = "555254239107",
        ["person_roleid"] = personRoleId,
        ["org_code"] = orgCode,
        ["role_name"] = $"\"Clinical\":\"Clinical Provision\":\"{accessRoleName}\"",
        ["role_code"] = roleCode,
        ["activity_codes"] = activityCodes.Cast<object>().ToList(),
    };

    /// <summary>
    /// The CIS2 claims for <see cref="Common.TestIssuer.CreateToken"/>'s <c>extraClaims</c>, with a delegated scope:
    /// Microsoft.Identity.Web refuses (401) a token carrying neither <c>scp</c> nor <c>roles</c>.
    /// </summary>
    public static Dictionary<string, object> Claims(string selectedRoleId, params Dictionary<string, object>[] roles) => new()
    {
        ["scp"] = "user_impersonation",
        ["selected_roleid"] = selectedRoleId,
        ["nhsid_nrbac_roles"] = roles.Cast<object>().ToList(),
        ["nhsid_useruid"] = "910000000001",
    };
}
