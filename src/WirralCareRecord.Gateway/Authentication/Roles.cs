namespace WirralCareRecord.Gateway.Authentication;

/// <summary>The gateway's Entra ID app roles (the <c>roles</c> claim).</summary>
public static class Roles
{
    public const string Clinician = "Clinician";
    public const string OnboardingAdmin = "OnboardingAdmin";
    public const string Auditor = "Auditor";

    /// <summary>The platform team: health and telemetry, no patient data and no registry changes.</summary>
    public const string Operator = "Operator";

    public static IReadOnlyList<string> All { get; } = [Clinician, OnboardingAdmin, Auditor, Operator];
}

/// <summary>Authorization policy names.</summary>
public static class Policies
{
    /// <summary>A clinician whose organisation holds an active sharing agreement as a consumer.</summary>
    public const string RecordViewer = "RecordViewer";

    /// <summary>Whoever watches the sources' health: the platform team (Operator) or onboarding staff.</summary>
    public const string Operations = "Operations";

    /// <summary>Onboarding staff: the registry, agreements and flow tests (the admin API).</summary>
    public const string Onboarding = "Onboarding";

    /// <summary>An information governance auditor.</summary>
    public const string Auditor = "Auditor";
}
