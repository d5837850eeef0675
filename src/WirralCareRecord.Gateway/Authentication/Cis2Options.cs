using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace WirralCareRecord.Gateway.Authentication;

/// <summary>
/// How NHS CIS2 role-based access control claims become gateway roles (the <c>Authentication:Cis2</c> section).
/// A CIS2 token names the user's roles in <c>nhsid_nrbac_roles</c> and the one chosen at sign-in in
/// <c>selected_roleid</c>; only that selected role counts
/// (<see href="https://digital.nhs.uk/services/care-identity-service/applications-and-services/cis2-authentication/guidance-for-developers/detailed-guidance/scopes-and-claims"/>).
/// </summary>
public sealed class Cis2Options
{
    /// <summary>
    /// The defaults: the national RBAC access roles of the professions that give direct care.
    /// R8000 Clinical Practitioner Access Role, R8001 Nurse Access Role, R8003 Health Professional Access Role.
    /// </summary>
    public static IReadOnlyList<Cis2RoleMapping> DefaultRoleMappings { get; } =
    [
        new() { RoleCode = "R8000", GatewayRole = Roles.Clinician },
        new() { RoleCode = "R8001", GatewayRole = Roles.Clinician },
        new() { RoleCode = "R8003", GatewayRole = Roles.Clinician },
    ];

    /// <summary>
    /// Which CIS2 roles (and activities) give which gateway role. When any mapping is configured the list replaces
    /// <see cref="DefaultRoleMappings"/> entirely, so configuration can narrow as well as widen who gets in (the
    /// configuration binder would otherwise append configured entries to defaults held in the list).
    /// </summary>
    [ValidateEnumeratedItems]
    public List<Cis2RoleMapping> RoleMappings { get; set; } = [];

    /// <summary>The mappings in force: the configured ones, else the defaults.</summary>
    public IReadOnlyList<Cis2RoleMapping> EffectiveRoleMappings => RoleMappings.Count > 0 ? RoleMappings : DefaultRoleMappings;
}

/// <summary>
/// One rule: a selected CIS2 role matching <see cref="RoleCode"/> and, when given, holding <see cref="ActivityCode"/>,
/// gives <see cref="GatewayRole"/>. At least one of the two codes is required.
/// </summary>
public sealed class Cis2RoleMapping : IValidatableObject
{
    /// <summary>
    /// A national RBAC code such as <c>R8000</c>; matches when it is one of the colon-separated parts of the entry's
    /// <c>role_code</c> (<c>S8000:G8000:R8000</c>), so a job role, group or area code works too.
    /// </summary>
    public string? RoleCode { get; set; }

    /// <summary>A national RBAC activity code such as <c>B0380</c>; matches when it is one of the entry's <c>activity_codes</c>.</summary>
    public string? ActivityCode { get; set; }

    /// <summary>The gateway role given: <c>Clinician</c>, <c>OnboardingAdmin</c> or <c>Auditor</c>.</summary>
    [Required]
    [AllowedValues(Roles.Clinician, Roles.OnboardingAdmin, Roles.Auditor, ErrorMessage = "Authentication:Cis2:RoleMappings GatewayRole must be one of Clinician, OnboardingAdmin or Auditor.")]
    public string GatewayRole { get; set; } = "";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(RoleCode) && string.IsNullOrWhiteSpace(ActivityCode))
        {
            yield return new ValidationResult(
                $"An Authentication:Cis2:RoleMappings entry for {GatewayRole} names neither a RoleCode nor an ActivityCode, so it would match every CIS2 role.",
                [nameof(RoleCode), nameof(ActivityCode)]);
        }
    }
}
