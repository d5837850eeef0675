using System.Security.Claims;
using WirralCareRecord.Gateway.Authentication;

namespace WirralCareRecord.Gateway.Pages;

/// <summary>A user the development sign-in page offers: the same claims a development token for them carries.</summary>
public sealed record DemoUser(string Id, string Name, string Role, string OdsCode, string Description)
{
    public ClaimsPrincipal Principal(GatewayAuthenticationOptions options) => new(new ClaimsIdentity(
        [
            new Claim("sub", Id),
            new Claim("oid", Id),
            new Claim("name", Name),
            new Claim("roles", Role),
            new Claim(options.OdsClaimType, OdsCode),
            new Claim(options.PurposeClaimType, CallerIdentity.DirectCare),
        ],
        PagesFeature.CookieScheme,
        "name",
        "roles"));
}

/// <summary>The demo users of the development sign-in page (Development only).</summary>
public static class DemoUsers
{
    public static IReadOnlyList<DemoUser> All { get; } =
    [
        new("dev-clinician-n85001", "Dr Asha Patel", Roles.Clinician, "N85001", "GP at N85001 (a GP practice)"),
        new("dev-clinician-rbl", "Dr Tom Hughes", Roles.Clinician, "RBL", "Doctor at RBL (Wirral University Teaching Hospital)"),
        new("dev-onboardingadmin", "Sam Roberts", Roles.OnboardingAdmin, "RBL", "Onboarding admin"),
        new("dev-auditor", "Jo Williams", Roles.Auditor, "RBL", "Information governance auditor"),
    ];

    public static DemoUser? Find(string? id) => All.FirstOrDefault(u => u.Id == id);
}
