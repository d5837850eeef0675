using System.ComponentModel.DataAnnotations;

namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>The managed registry's settings, section <c>Registry</c>.</summary>
public sealed class RegistryOptions
{
    public const string SectionName = "Registry";

    /// <summary>
    /// A registry document imported when storage holds no registry yet (absolute, or relative to the content root).
    /// After that the stored registry, changed through the admin API, is the only truth.
    /// </summary>
    public string? SeedPath { get; set; }

    /// <summary>How often each instance checks storage for changes made elsewhere; a suspension takes effect everywhere within this.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00", ErrorMessage = "Registry:PollInterval must be between 50 ms and 1 hour.")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How recent a passed flow test must be to promote an organisation to pilot or live.</summary>
    [Range(typeof(TimeSpan), "01:00:00", "365.00:00:00", ErrorMessage = "Registry:FlowTestMaxAge must be between 1 hour and 365 days.")]
    public TimeSpan FlowTestMaxAge { get; set; } = TimeSpan.FromDays(30);

    /// <summary>The largest signed agreement document accepted, in bytes.</summary>
    [Range(1024, 100 * 1024 * 1024, ErrorMessage = "Registry:MaxDocumentBytes must be between 1 KiB and 100 MiB.")]
    public long MaxDocumentBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>
    /// Accept plain-http source URLs outside Development (for test rigs only). Production refuses to start with it set,
    /// and refuses any http source in the registry.
    /// </summary>
    public bool AllowHttpSources { get; set; }

    /// <summary>
    /// The hosts an OAuth token endpoint may be on (exact host names, or <c>*.example.nhs.uk</c> for any host under a
    /// domain). A client secret is only ever sent to these, over https; empty means no client-credentials source can be
    /// registered or changed through the admin API.
    /// </summary>
    public List<string> AllowedTokenEndpointHosts { get; set; } = [];

    /// <summary>
    /// The designated test patients flow tests may fetch (NHS numbers). A flow test asks a live system for a patient, so
    /// it may ask only for these; in Production they must be synthetic (the 9xx test range), never a real patient.
    /// </summary>
    public List<string> TestPatients { get; set; } = [];
}
