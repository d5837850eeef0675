using System.Security.Claims;

namespace WirralCareRecord.Gateway.Authentication;

/// <summary>Who is asking, as the audit log and the sharing rules need it.</summary>
/// <param name="UserId">The stable user id (Entra <c>oid</c>, else <c>sub</c>).</param>
/// <param name="OdsCode">The caller's organisation, from the ODS code claim; null when the token has none.</param>
/// <param name="PurposeOfUse">An HL7 v3 ActReason code; direct care (<c>TREAT</c>) unless the token says otherwise.</param>
public sealed record CallerIdentity(string UserId, string? DisplayName, IReadOnlyList<string> Roles, string? OdsCode, string PurposeOfUse)
{
    public const string DirectCare = "TREAT";

    public static CallerIdentity? From(ClaimsPrincipal user, GatewayAuthenticationOptions options)
    {
        if (user.Identity?.IsAuthenticated != true)
        {
            return null;
        }

        var id = user.FindFirst("oid")?.Value ?? user.FindFirst("sub")?.Value ?? user.FindFirst(ClaimTypes.NameIdentifier)?.Value ?? "unknown";
        var roles = user.FindAll("roles").Concat(user.FindAll(ClaimTypes.Role)).Select(c => c.Value).Distinct(StringComparer.Ordinal).ToList();
        var ods = user.FindFirst(options.OdsClaimType)?.Value?.Trim().ToUpperInvariant();
        var purpose = user.FindFirst(options.PurposeClaimType)?.Value ?? DirectCare;
        return new CallerIdentity(id, user.FindFirst("name")?.Value, roles, string.IsNullOrEmpty(ods) ? null : ods, purpose);
    }

    public bool HasRole(string role) => Roles.Contains(role, StringComparer.Ordinal);
}
