using WirralCareRecord.Gateway.Federation;

namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>The kind of care setting an organisation is; the "tell your story once" figures count settings by kind.</summary>
public enum OrganisationKind
{
    GpPractice,
    AcuteTrust,
    CommunityTrust,
    MentalHealthTrust,
    SocialCare,
    Other,
}

/// <summary>Where an organisation is in onboarding. Only <see cref="Live"/> sources are federated for everyone.</summary>
public enum LifecycleState
{
    Registered,
    AgreementSigned,
    FlowTested,
    Pilot,
    Live,
    Suspended,
    Withdrawn,
}

/// <summary>Someone to call about an organisation's part in the record (IG lead, system supplier, practice manager).</summary>
public sealed record OrganisationContact(string Name, string Role, string? Email = null, string? Phone = null);

/// <summary>
/// The organisation's own record system (EMIS, SystmOne, Cerner Millennium...) as a SMART on FHIR EHR: a context launch
/// from it names this organisation. See https://hl7.org/fhir/smart-app-launch/app-launch.html.
/// </summary>
/// <param name="Issuer">The <c>iss</c> the system sends on launch: its FHIR base URL, without a trailing slash.</param>
/// <param name="ClientId">The gateway's client id as registered with that system (a public client using PKCE).</param>
public sealed record RecordSystem(string Issuer, string ClientId)
{
    /// <summary>Issuers compare without a trailing slash and ignoring case in scheme and host, as URLs do.</summary>
    public bool Issued(string iss) =>
        Uri.TryCreate(iss.TrimEnd('/'), UriKind.Absolute, out var given)
        && Uri.TryCreate(Issuer.TrimEnd('/'), UriKind.Absolute, out var own)
        && Uri.Compare(given, own, UriComponents.AbsoluteUri, UriFormat.UriEscaped, StringComparison.Ordinal) == 0;
}

/// <summary>The outcome of an organisation's most recent flow test; the full report is kept beside the registry.</summary>
public sealed record FlowTestSummary(string ReportId, DateTimeOffset RanAt, bool Passed, string Summary);

/// <summary>
/// How the gateway reaches an organisation's system: the parts a hostile change could use to redirect patient data or
/// send a secret elsewhere. Changing them on an organisation that has been flow-tested needs a second administrator.
/// </summary>
public sealed record SourceConnection(Uri FhirBaseUrl, SourceAuthentication Authentication)
{
    /// <summary>What differs between <paramref name="from"/> and <paramref name="to"/>, each as <c>field: old → new</c>; secret values are never in the registry, only their names.</summary>
    public static IReadOnlyList<string> Differences(SourceConnection from, SourceConnection to)
    {
        var changes = new List<string>();
        void Compare(string field, object? before, object? after)
        {
            var b = before?.ToString()?.TrimEnd('/') ?? "";
            var a = after?.ToString()?.TrimEnd('/') ?? "";
            if (!string.Equals(b, a, StringComparison.Ordinal))
            {
                changes.Add($"{field}: {(b.Length == 0 ? "(none)" : b)} → {(a.Length == 0 ? "(none)" : a)}");
            }
        }

        Compare("fhirBaseUrl", from.FhirBaseUrl, to.FhirBaseUrl);
        Compare("authentication.mode", from.Authentication.Mode, to.Authentication.Mode);
        Compare("authentication.tokenEndpoint", from.Authentication.TokenEndpoint, to.Authentication.TokenEndpoint);
        Compare("authentication.clientId", from.Authentication.ClientId, to.Authentication.ClientId);
        Compare("authentication.scope", from.Authentication.Scope, to.Authentication.Scope);
        Compare("authentication.secretName", from.Authentication.SecretName, to.Authentication.SecretName);
        Compare("authentication.certificateName", from.Authentication.CertificateName, to.Authentication.CertificateName);
        return changes;
    }
}

/// <summary>
/// A connection or record system change one administrator has proposed and another must approve (the two-person
/// rule). Until then the organisation keeps its current connection, and context launches trust its current record
/// system only.
/// </summary>
/// <param name="ProposedBy">The proposer's user id: the one person who may not approve it.</param>
/// <param name="ProposedByName">The proposer as the history shows them.</param>
public sealed record ProposedConnectionChange(string Id, SourceConnection Connection, string ProposedBy, string ProposedByName, DateTimeOffset ProposedAt, IReadOnlyList<string> Changes)
{
    /// <summary>
    /// The record system the organisation would have; null when the proposal leaves it as it is. The issuer decides
    /// whose id_tokens a context launch as this organisation's clinicians trusts, so it needs a second administrator too.
    /// </summary>
    public RecordSystemChange? RecordSystem { get; init; }

    /// <summary>
    /// Whether <see cref="Connection"/> is proposed; false when only the record system is, and the connection may still
    /// be changed directly meanwhile (never flow-tested), so approval must not put back the one copied at proposal.
    /// Proposals stored before record systems could be proposed always carried a connection.
    /// </summary>
    public bool ProposesConnection { get; init; } = true;
}

/// <summary>A proposed record system: <paramref name="To"/> null removes the organisation's record system.</summary>
public sealed record RecordSystemChange(RecordSystem? To);

/// <summary>An organisation in the registry: a possible source of records and a possible consumer of them.</summary>
/// <param name="OdsCode">The organisation's ODS code, upper case (e.g. <c>N85001</c>, <c>RBL</c>).</param>
/// <param name="FhirBaseUrl">The source's FHIR R4 base, without a trailing slash; never shown to callers.</param>
/// <param name="Timeout">How long a federated read waits for this source; the federation default when null.</param>
/// <param name="StaffCount">Staff who could use the record; the denominator of the "proportion of staff" figure, when known.</param>
public sealed record Organisation(
    string OdsCode,
    string Name,
    OrganisationKind Kind,
    Uri FhirBaseUrl,
    int Phase,
    LifecycleState State,
    TimeSpan? Timeout = null,
    int? StaffCount = null)
{
    public IReadOnlyList<OrganisationContact> Contacts { get; init; } = [];

    public FlowTestSummary? LastFlowTest { get; init; }

    /// <summary>How the gateway authenticates to this source.</summary>
    public SourceAuthentication Authentication { get; init; } = SourceAuthentication.None;

    /// <summary>The organisation's record system, when clinicians open the record from it by context launch; null otherwise.</summary>
    public RecordSystem? RecordSystem { get; init; }

    /// <summary>Increases with every change; the organisation's ETag, so two admins never overwrite each other.</summary>
    public int Revision { get; init; } = 1;

    public string ETag => $"\"{Revision}\"";

    /// <summary>A connection change waiting for a second administrator's approval; null when none is.</summary>
    public ProposedConnectionChange? PendingConnectionChange { get; init; }

    /// <summary>
    /// The state the organisation returns to once a flow test of its changed connection passes; null unless it was
    /// taken out of service by an approved connection change.
    /// </summary>
    public LifecycleState? ResumeAfterFlowTest { get; init; }

    /// <summary>The connection as it is now.</summary>
    public SourceConnection Connection => new(FhirBaseUrl, Authentication);
}
