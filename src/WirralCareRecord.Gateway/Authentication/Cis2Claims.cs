using System.Security.Claims;
using System.Text.Json;

namespace WirralCareRecord.Gateway.Authentication;

/// <summary>One entry of a CIS2 token's <c>nhsid_nrbac_roles</c>: a role the user holds at one organisation.</summary>
/// <param name="PersonRoleId">The entry's <c>person_roleid</c>, which <c>selected_roleid</c> refers to.</param>
/// <param name="OrgCode">The ODS code of the organisation the role is held at (<c>org_code</c>).</param>
/// <param name="RoleCode">The national RBAC codes, colon-separated (<c>S8000:G8000:R8001</c>).</param>
/// <param name="RoleName">The matching names, each quoted (<c>"Clinical":"Clinical Provision":"Nurse Access Role"</c>).</param>
/// <param name="ActivityCodes">The national RBAC activities the role carries (<c>B0380</c>...).</param>
public sealed record Cis2RbacRole(string PersonRoleId, string? OrgCode, string? RoleCode, string? RoleName, IReadOnlyList<string> ActivityCodes)
{
    /// <summary>The most specific part of the role name (the access role), for messages; else the role code.</summary>
    public string Describe()
    {
        var name = RoleName?.Split(':')[^1].Trim().Trim('"');
        var code = RoleCode?.Split(':')[^1].Trim();
        return (name, code) switch
        {
            ({ Length: > 0 }, { Length: > 0 }) => $"{name} ({code})",
            ({ Length: > 0 }, _) => name,
            (_, { Length: > 0 }) => code,
            _ => $"role {PersonRoleId}",
        };
    }
}

/// <summary>
/// What the gateway made of a CIS2-shaped token: the role the user selected at sign-in, or why none could be used.
/// </summary>
/// <param name="SelectedRoleId">The token's <c>selected_roleid</c>; null when it has none.</param>
/// <param name="Selected">The <c>nhsid_nrbac_roles</c> entry it picks; null when it picks none.</param>
public sealed record Cis2Sign(string? SelectedRoleId, Cis2RbacRole? Selected)
{
    /// <summary>Why the token gives no role and no organisation, when the selection cannot be used; null when it can.</summary>
    public string? SelectionProblem => (SelectedRoleId, Selected) switch
    {
        (null, _) => "Your NHS CIS2 sign-in has no selected role (no selected_roleid claim), so the gateway cannot tell which role and organisation you are working as. Sign in again and choose a role.",
        (_, null) => $"Your NHS CIS2 sign-in's selected role ({SelectedRoleId}) is not one of the roles in the token (nhsid_nrbac_roles), so the gateway cannot tell which role and organisation you are working as. Sign in again and choose a role.",
        _ => null,
    };
}

/// <summary>
/// Reads NHS CIS2 role claims and maps the selected role to gateway roles.
/// A token is CIS2-shaped when it carries <c>nhsid_nrbac_roles</c> or <c>selected_roleid</c>.
/// </summary>
public static class Cis2Claims
{
    public const string RbacRoles = "nhsid_nrbac_roles";
    public const string SelectedRoleId = "selected_roleid";

    public static bool IsCis2(ClaimsPrincipal user) => user.HasClaim(c => c.Type is RbacRoles or SelectedRoleId);

    /// <summary>The selected role and the entry it picks (entries that are not JSON objects with a person_roleid are skipped).</summary>
    public static Cis2Sign Read(ClaimsPrincipal user)
    {
        var selected = user.FindFirst(SelectedRoleId)?.Value.Trim();
        if (string.IsNullOrEmpty(selected))
        {
            return new Cis2Sign(null, null);
        }

        var entry = Entries(user).FirstOrDefault(e => string.Equals(e.PersonRoleId, selected, StringComparison.Ordinal));
        return new Cis2Sign(selected, entry);
    }

    /// <summary>
    /// Every <c>nhsid_nrbac_roles</c> entry. The JWT handler turns the JSON array of objects into one claim per object
    /// (value type <c>JSON</c>); a token (or claims transformation) may also carry the whole array as one string.
    /// </summary>
    public static IReadOnlyList<Cis2RbacRole> Entries(ClaimsPrincipal user)
    {
        var entries = new List<Cis2RbacRole>();
        foreach (var claim in user.FindAll(RbacRoles))
        {
            try
            {
                using var document = JsonDocument.Parse(claim.Value);
                if (document.RootElement.ValueKind == JsonValueKind.Array)
                {
                    entries.AddRange(document.RootElement.EnumerateArray().Select(Entry).OfType<Cis2RbacRole>());
                }
                else if (Entry(document.RootElement) is { } entry)
                {
                    entries.Add(entry);
                }
            }
            catch (JsonException)
            {
                // A malformed entry grants nothing; the others still count.
            }
        }

        return entries;
    }

    /// <summary>The gateway roles the selected entry gives under <paramref name="options"/>.</summary>
    public static IReadOnlyList<string> GatewayRoles(Cis2RbacRole role, Cis2Options options)
    {
        var roleCodes = role.RoleCode?.Split(':', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];
        return [.. options.EffectiveRoleMappings
            .Where(m => Matches(m.RoleCode, roleCodes) && Matches(m.ActivityCode, role.ActivityCodes))
            .Select(m => m.GatewayRole)
            .Distinct(StringComparer.Ordinal)];
    }

    // An unset code does not constrain; a mapping with neither is refused at start-up (Cis2RoleMapping.Validate).
    private static bool Matches(string? wanted, IEnumerable<string> held) =>
        string.IsNullOrWhiteSpace(wanted) || held.Contains(wanted.Trim(), StringComparer.OrdinalIgnoreCase);

    private static Cis2RbacRole? Entry(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object || Text(element, "person_roleid") is not { Length: > 0 } personRoleId)
        {
            return null;
        }

        var activities = element.TryGetProperty("activity_codes", out var codes) && codes.ValueKind == JsonValueKind.Array
            ? codes.EnumerateArray().Select(Scalar).OfType<string>().ToList()
            : [];
        var orgCode = Text(element, "org_code")?.Trim().ToUpperInvariant();
        return new Cis2RbacRole(personRoleId, string.IsNullOrEmpty(orgCode) ? null : orgCode, Text(element, "role_code"), Text(element, "role_name"), activities);
    }

    private static string? Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) ? Scalar(value) : null;

    // CIS2 sends ids as strings; accept numbers too rather than silently losing a selection.
    private static string? Scalar(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        _ => null,
    };
}
