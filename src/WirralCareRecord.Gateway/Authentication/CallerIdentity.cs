using System.Security.Claims;

namespace WirralCareRecord.Gateway.Authentication;

/// <summary>Who is asking, as the audit log and the sharing rules need it.</summary>
/// <param name="UserId">The stable user id (Entra <c>oid</c>, else <c>sub</c>).</param>
/// <param name="Roles">Gateway roles: Entra app roles, or for a CIS2 token those its selected role maps to.</param>
/// <param name="OdsCode">
/// The caller's organisation: from the ODS code claim, or for a CIS2 token the selected role's <c>org_code</c>;
/// null when the token gives none.
/// </param>
/// <param name="PurposeOfUse">An HL7 v3 ActReason code; direct care (<c>TREAT</c>) unless the token says otherwise.</param>
public sealed record CallerIdentity(string UserId, string? DisplayName, IReadOnlyList<string> Roles, string? OdsCode, string PurposeOfUse)
{
    public const string DirectCare = "TREAT";

    /// <summary>The authentication type of a page user's cookie identity (signed in on the gateway's pages).</summary>
    public const string PagesAuthenticationType = "WcrPages";

    /// <summary>The authentication type of a cookie identity made by a SMART context launch.</summary>
    public const string ContextLaunchAuthenticationType = "WcrContextLaunch";

    /// <summary>
    /// How the caller reached the gateway, from how it authenticated (never from a claim a token could carry): a
    /// bearer token is the local system's API call; the page cookie says whether it began with a context launch.
    /// </summary>
    public Audit.AccessChannel Channel { get; init; } = Audit.AccessChannel.LocalSystem;

    /// <summary>For a token of the NHS CIS2 shape, the role selected at sign-in as the gateway read it; null for Entra-shaped tokens.</summary>
    public Cis2Sign? Cis2 { get; init; }

    /// <summary>
    /// Reads the caller from a validated token. Two shapes: Entra ID (app roles in <c>roles</c>, organisation in
    /// <see cref="GatewayAuthenticationOptions.OdsClaimType"/>), and NHS CIS2 (<c>nhsid_nrbac_roles</c> and
    /// <c>selected_roleid</c>). A CIS2-shaped token is read only as CIS2: its <c>roles</c> and ODS claims are ignored,
    /// so the role and organisation the user selected at sign-in are the only ones that count, and a token cannot
    /// widen that selection by also carrying app roles.
    /// </summary>
    public static CallerIdentity? From(ClaimsPrincipal user, GatewayAuthenticationOptions options)
    {
        if (user.Identity?.IsAuthenticated != true)
        {
            return null;
        }

        return Read(user, options);
    }

    /// <summary>
    /// The request's caller (<see cref="From"/>), worked out once per request: its rate limit, access checks, endpoint
    /// and audit all ask. Read again only if the request's principal has been replaced since.
    /// </summary>
    public static CallerIdentity? Of(HttpContext context, GatewayAuthenticationOptions options)
    {
        if (context.Items.TryGetValue(typeof(KnownCaller), out var value) && value is KnownCaller known
            && ReferenceEquals(known.User, context.User) && ReferenceEquals(known.Options, options))
        {
            return known.Caller;
        }

        var caller = From(context.User, options);
        context.Items[typeof(KnownCaller)] = new KnownCaller(context.User, options, caller);
        return caller;
    }

    private sealed record KnownCaller(ClaimsPrincipal User, GatewayAuthenticationOptions Options, CallerIdentity? Caller);

    private static CallerIdentity Read(ClaimsPrincipal user, GatewayAuthenticationOptions options)
    {

        var id = user.FindFirst("oid")?.Value ?? user.FindFirst("sub")?.Value ?? user.FindFirst(ClaimTypes.NameIdentifier)?.Value ?? "unknown";
        var name = user.FindFirst("name")?.Value;
        var purpose = user.FindFirst(options.PurposeClaimType)?.Value ?? DirectCare;
        var channel = user.Identity?.AuthenticationType switch
        {
            ContextLaunchAuthenticationType => Audit.AccessChannel.ContextLaunch,
            PagesAuthenticationType => Audit.AccessChannel.GatewayPages,
            _ => Audit.AccessChannel.LocalSystem,
        };

        if (Cis2Claims.IsCis2(user))
        {
            var sign = Cis2Claims.Read(user);
            var roles = sign.Selected is { } selected ? Cis2Claims.GatewayRoles(selected, options.Cis2) : [];
            return new CallerIdentity(id, name, roles, Onboarding.OdsCode.IsValid(sign.Selected?.OrgCode) ? sign.Selected?.OrgCode : null, purpose) { Cis2 = sign, Channel = channel };
        }

        var appRoles = user.FindAll("roles").Concat(user.FindAll(ClaimTypes.Role)).Select(c => c.Value).Distinct(StringComparer.Ordinal).ToList();
        var ods = user.FindFirst(options.OdsClaimType)?.Value?.Trim().ToUpperInvariant();

        // Only an ODS code counts as an organisation: anything else (a formula, markup, a long string) is treated as no
        // organisation, so it is refused at sign-in and never reaches the audit log, its reports or their CSV.
        return new CallerIdentity(id, name, appRoles, Onboarding.OdsCode.IsValid(ods) ? ods : null, purpose) { Channel = channel };
    }

    public bool HasRole(string role) => Roles.Contains(role, StringComparer.Ordinal);

    /// <summary>Why the caller lacks <paramref name="role"/>, in words the user can act on.</summary>
    public string RoleRefusal(string role) => Cis2 switch
    {
        { SelectionProblem: { } problem } => problem,
        { Selected: { } selected } =>
            $"Your selected NHS CIS2 role, {selected.Describe()} at {selected.OrgCode ?? "no organisation"}, does not give the gateway's {role} role, which this needs. Sign in choosing a role that does.",
        _ => $"This needs the {role} role, which your sign-in does not have.",
    };

    /// <summary>
    /// Why the caller's organisation cannot be checked, when that is down to the token rather than the registry;
    /// null when the sharing rules should decide.
    /// </summary>
    public string? OrganisationRefusal => Cis2 switch
    {
        { SelectionProblem: not null } => "Without a usable CIS2 role the gateway cannot tell which organisation you work for, so it cannot check a data sharing agreement.",
        { Selected.OrgCode: null } => "Your selected NHS CIS2 role names no organisation (no org_code), so the gateway cannot check a data sharing agreement.",
        _ => null,
    };
}
