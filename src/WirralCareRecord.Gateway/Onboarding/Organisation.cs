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
    int? StaffCount = null);
