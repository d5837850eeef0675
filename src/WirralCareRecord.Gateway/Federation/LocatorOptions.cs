using System.ComponentModel.DataAnnotations;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>How the demographics service is asked for a patient's registered practice.</summary>
public enum DemographicsLookup
{
    /// <summary><c>GET {url}/Patient/{nhsNumber}</c>, as NHS England's Personal Demographics Service (PDS FHIR API) retrieves a patient.</summary>
    Read,

    /// <summary><c>GET {url}/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{nhsNumber}</c>, for FHIR servers that search instead.</summary>
    Search,
}

/// <summary>
/// The record locator, section <c>Locator</c>: which organisations are asked for a patient's record, so the cost of a
/// read follows the organisations that hold the patient rather than every organisation onboarded.
/// </summary>
public sealed class LocatorOptions : IValidatableObject
{
    public const string SectionName = "Locator";

    /// <summary>
    /// The development key for blob names. Anyone holding the key can test whether an NHS number is in the locator, so
    /// Production refuses to start with it.
    /// </summary>
    public const string DevelopmentNameKey = "wcr-development-locator-name-key-do-not-use-in-production";

    /// <summary>When false every read asks every source the caller may see, as before the locator.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The HMAC-SHA256 key that turns an NHS number into the name of its locator document, so listing the container
    /// reveals no NHS numbers. A secret: keep it in Key Vault. Changing it orphans every entry (reads then sweep again).
    /// </summary>
    [Required(ErrorMessage = "Locator:NameKey must be set.")]
    [MinLength(32, ErrorMessage = "Locator:NameKey must be at least 32 characters.")]
    public string NameKey { get; set; } = DevelopmentNameKey;

    /// <summary>
    /// Organisations asked on every read whatever the locator knows: organisation kinds (<c>AcuteTrust</c>,
    /// <c>CommunityTrust</c>...) or ODS codes. A patient seen at the hospital last night is not yet in the locator.
    /// </summary>
    public List<string> AlwaysAsk { get; set; } = [nameof(OrganisationKind.AcuteTrust), nameof(OrganisationKind.CommunityTrust)];

    /// <summary>Also ask the caller's own organisation (when it is a source the caller may see): it may have just registered the patient.</summary>
    public bool AskCallerOrganisation { get; set; } = true;

    /// <summary>
    /// A PDS-compatible FHIR endpoint giving the patient's registered GP practice (<c>Patient.generalPractitioner</c>
    /// ODS identifiers). Optional: without it the registered practice is learned from what sources return.
    /// </summary>
    public Uri? DemographicsServiceUrl { get; set; }

    public DemographicsLookup DemographicsServiceLookup { get; set; } = DemographicsLookup.Read;

    /// <summary>How long a read waits for the demographics service; it never fails a read, only narrows less well.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:00:30")]
    public TimeSpan DemographicsServiceTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a read waits for the locator's storage, to read the patient's entry and again to store what it learned.
    /// A read that cannot narrow asks everyone and one that cannot store teaches nothing, so neither is worth holding a
    /// clinician for: storage that hangs rather than refuses would otherwise hold every read for the storage client's
    /// retries (three tries of ten seconds) twice over, before the audit log's own time limit is even reached.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan StorageTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often a patient's registered practice is checked with the demographics service (on a read that needs the locator).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan DemographicsRefreshAfter { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// A patient whose last full sweep is older than this is swept again in the background. Also how long a source that
    /// said it does not know the patient stays out of the locator when another source still names it as the GP.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Whether this instance re-sweeps stale entries in the background.</summary>
    public bool BackgroundResweep { get; set; } = true;

    /// <summary>How often the background re-sweep looks for stale entries.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "7.00:00:00")]
    public TimeSpan ResweepInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The most patients one background pass re-sweeps, so a pass never floods the sources.</summary>
    [Range(1, 10000)]
    public int ResweepBatchSize { get; set; } = 50;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var entry in AlwaysAsk)
        {
            if (!Enum.TryParse<OrganisationKind>(entry, ignoreCase: false, out _) && !OdsCode.IsValid(entry))
            {
                yield return new ValidationResult(
                    $"Locator:AlwaysAsk entry '{entry}' is neither an organisation kind ({string.Join(", ", Enum.GetNames<OrganisationKind>())}) nor an ODS code.",
                    [nameof(AlwaysAsk)]);
            }
        }

        if (DemographicsServiceUrl is { } url && (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp)))
        {
            yield return new ValidationResult("Locator:DemographicsServiceUrl must be an absolute http(s) URL.", [nameof(DemographicsServiceUrl)]);
        }
    }

    /// <summary>Whether <paramref name="source"/> is asked on every read.</summary>
    public bool IsAlwaysAsked(Organisation source) =>
        AlwaysAsk.Any(entry => string.Equals(entry, source.Kind.ToString(), StringComparison.Ordinal)
            || string.Equals(entry, source.OdsCode, StringComparison.OrdinalIgnoreCase));
}
