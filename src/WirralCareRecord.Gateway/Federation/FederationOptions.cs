using System.ComponentModel.DataAnnotations;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>How the federated read talks to sources.</summary>
public sealed class FederationOptions : IValidatableObject
{
    public const string SectionName = "Federation";

    /// <summary>How long a read waits for one source (all its calls together) unless the registry gives that source its own.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:02:00", ErrorMessage = "Federation:SourceTimeout must be between 50 ms and 2 minutes.")]
    public TimeSpan SourceTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The resource types fetched for a record, each with a <c>patient</c> search.</summary>
    [MinLength(1, ErrorMessage = "Federation:RecordTypes must list at least one resource type.")]
    public List<string> RecordTypes { get; set; } = [.. DefaultRecordTypes];

    /// <summary>The <c>_count</c> asked of sources.</summary>
    [Range(1, 1000)]
    public int PageSize { get; set; } = 100;

    /// <summary>The most pages followed per resource type, so a source that pages forever cannot hold a read.</summary>
    [Range(1, 1000)]
    public int MaxPagesPerType { get; set; } = 50;

    /// <summary>The most bytes read from one source answer; a larger one fails that source (as unreadable) instead of filling the gateway's memory.</summary>
    [Range(1024, int.MaxValue)]
    public long MaxSourceResponseBytes { get; set; } = DefaultMaxSourceResponseBytes;

    public const long DefaultMaxSourceResponseBytes = 32 * 1024 * 1024;

    /// <summary>
    /// The most bytes of source answers the whole gateway holds at once (answers being read, what was kept from them,
    /// and what is being written back), over every read in flight. It bounds the gateway's memory whatever the load: a
    /// read that finds it full waits (<see cref="SourceBufferWait"/>), then that source is reported busy (on the source
    /// routes, 503 with Retry-After). Must leave room for one answer at the cap.
    /// </summary>
    [Range(1024 * 1024, long.MaxValue)]
    public long MaxBufferedSourceBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>How long reading an answer waits for room under <see cref="MaxBufferedSourceBytes"/> before giving up.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00", ErrorMessage = "Federation:SourceBufferWait must be between 0 and 1 minute.")]
    public TimeSpan SourceBufferWait { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Failures (errors, unreadable answers, timeouts) a source needs in the sampling window before its breaker may open.</summary>
    [Range(2, 1000)]
    public int BreakerMinimumThroughput { get; set; } = 5;

    /// <summary>The share of failing reads in the window that opens the breaker.</summary>
    [Range(0.01, 1.0)]
    public double BreakerFailureRatio { get; set; } = 0.5;

    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00")]
    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a source with an open breaker is skipped before the gateway tries it again.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00")]
    public TimeSpan BreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Kinds of organisation whose staff must show a legitimate relationship with the patient (registered with the
    /// caller's practice, or seen at the caller's organisation recently) or break the glass. NHS direct care is trusted by
    /// default; social care is not.
    /// </summary>
    public List<OrganisationKind> LegitimateRelationshipRequiredFor { get; set; } = [OrganisationKind.SocialCare];

    /// <summary>How recent an encounter or episode of care at the caller's organisation must be to count.</summary>
    [Range(1, 3650)]
    public int LegitimateRelationshipDays { get; set; } = 365;

    /// <summary>How often YARP probes each source's <c>/metadata</c>; two failures in a row mark it unavailable.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00")]
    public TimeSpan SourceHealthCheckInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The gateway's address as callers reach it (for example <c>https://record.wirral.nhs.uk</c>): every link and
    /// fullUrl the gateway writes starts with it. Unset, the first address the server listens on is used.
    /// </summary>
    public Uri? PublicBaseUrl { get; set; }

    /// <summary>
    /// Base64 key (32 bytes or more) that signs the links the gateway writes into source answers (next pages, documents).
    /// Unset, each process makes its own, so links work only on the instance that wrote them: set it when running several.
    /// </summary>
    public string? LinkSigningKey { get; set; }

    /// <summary>
    /// Security labels, as <c>system|code</c>, that withhold an item (or anything containing it) besides the
    /// confidentiality codes R and V, which always do: for example <c>http://terminology.hl7.org/CodeSystem/v3-ActCode|PSY</c>.
    /// </summary>
    public List<string> RestrictedLabels { get; set; } = [];

    public static IReadOnlyList<string> DefaultRecordTypes { get; } =
    [
        "AllergyIntolerance", "Condition", "MedicationStatement", "MedicationRequest", "Encounter",
        "Observation", "Immunization", "Procedure", "DocumentReference",
    ];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // A block more than the cap: an answer is refused only once a read has passed it, so one at the cap needs that much.
        if (MaxBufferedSourceBytes < MaxSourceResponseBytes + SourceAnswers.SourceBufferPool.BlockSize)
        {
            yield return new ValidationResult(
                $"Federation:MaxBufferedSourceBytes ({MaxBufferedSourceBytes}) must be at least Federation:MaxSourceResponseBytes ({MaxSourceResponseBytes}) plus 64 KB, or an answer the gateway allows could never be read.",
                [nameof(MaxBufferedSourceBytes)]);
        }
    }
}
