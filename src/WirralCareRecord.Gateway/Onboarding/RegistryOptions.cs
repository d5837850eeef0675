using System.ComponentModel.DataAnnotations;

namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>Where the registry comes from. Until the managed registry lands, a JSON seed file.</summary>
public sealed class RegistryOptions
{
    public const string SectionName = "Registry";

    /// <summary>Path of the registry seed file (absolute, or relative to the content root). Reloaded when it changes.</summary>
    [Required(ErrorMessage = "Registry:SeedPath must name the registry seed file (organisations and sharing agreements).")]
    public string SeedPath { get; set; } = "";
}
