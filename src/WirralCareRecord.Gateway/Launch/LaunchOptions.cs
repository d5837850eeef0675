using System.ComponentModel.DataAnnotations;

namespace WirralCareRecord.Gateway.Launch;

/// <summary>
/// SMART App Launch (EHR launch) from clinicians' own record systems. Which record system belongs to which organisation,
/// and the gateway's client id with each, are in the registry (<c>organisations[].recordSystem</c>).
/// </summary>
public sealed class LaunchOptions
{
    public const string SectionName = "Launch";

    /// <summary>What the gateway asks the record system for: the launch context, the user's identity, and read access to the patient in context (SMART 2 scope syntax).</summary>
    [Required]
    [RegularExpression(@"^(?=.*\blaunch\b)(?=.*\bopenid\b)(?=.*\bfhirUser\b)(?=.*\bpatient/Patient\.(rs|r|read)\b).*$", ErrorMessage = "Launch:Scope must ask for launch, openid, fhirUser and patient/Patient.rs.")]
    public string Scope { get; set; } = "launch openid fhirUser patient/Patient.rs";

    /// <summary>How long each call to a record system (its configuration, token endpoint, keys, Patient) may take.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a clinician has to finish signing in at their record system once the launch has begun.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "00:30:00")]
    public TimeSpan SignInLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long the record page's link for a launched patient stays valid (the page cookie's idle timeout).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "08:00:00")]
    public TimeSpan ContextLifetime { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// The gateway's public address, from which the <c>redirect_uri</c> registered with every record system is made
    /// (<c>{PublicBaseUrl}/launch/callback</c>). When unset, the gateway's public base address (<c>Federation:PublicBaseUrl</c>).
    /// </summary>
    [Url]
    public string? PublicBaseUrl { get; set; }
}
