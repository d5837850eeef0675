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

/// <summary>The outcome of an organisation's most recent flow test; the full report is kept beside the registry.</summary>
public sealed record FlowTestSummary(string ReportId, DateTimeOffset RanAt, bool Passed, string Summary);

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

    /// <summary>Increases with every change; the organisation's ETag, so two admins never overwrite each other.</summary>
    public int Revision { get; init; } = 1;

    public string ETag => $"\"{Revision}\"";
}
