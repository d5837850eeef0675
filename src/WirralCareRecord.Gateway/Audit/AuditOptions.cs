using System.ComponentModel.DataAnnotations;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// How the audit log is written and summarised. Where it is written is the <c>Storage</c> section's business: the log
/// lives in the Audit container (<c>Storage:LocalFolder/wcr-audit/</c>, or a blob container of that name).
/// </summary>
public sealed class AuditOptions : IValidatableObject
{
    public const string SectionName = "Audit";

    /// <summary>This gateway instance's name in blob names, so instances never write to the same blob.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_.-]{1,64}$", ErrorMessage = "Audit:InstanceId may use letters, digits, '.', '_' and '-' only.")]
    public string InstanceId { get; set; } = SafeMachineName();

    /// <summary>Most events written by one append (group commit); concurrent requests share it.</summary>
    [Range(1, 10_000, ErrorMessage = "Audit:MaxBatchEvents must be between 1 and 10000.")]
    public int MaxBatchEvents { get; set; } = 500;

    /// <summary>
    /// Appends per blob before a new part is started. Azure append blobs take at most 50,000 blocks, and each group
    /// commit is one block.
    /// </summary>
    [Range(1, 50_000, ErrorMessage = "Audit:MaxAppendsPerBlob must be between 1 and 50000 (the append blob block limit).")]
    public int MaxAppendsPerBlob { get; set; } = 50_000;

    /// <summary>Events that may wait for the writer before callers are held back.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Audit:QueueCapacity must be between 1 and 1000000.")]
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>
    /// How long one write to the log may take before the requests waiting on it are refused (503). The storage client's
    /// own retries can take half a minute when storage is unreachable; a clinician should hear sooner.
    /// </summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The HMAC key (base64, at least 32 bytes) that turns user ids and NHS numbers into the pseudonyms the daily roll-ups
    /// count distinct staff and patients with. When unset, a random key is generated once and kept in the Audit container.
    /// </summary>
    public string? PseudonymKey { get; set; }

    /// <summary>How long after a UTC day ends its roll-up may be built and trusted; late writes land well within it.</summary>
    public TimeSpan RollupSealDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often each instance makes sure the last week's sealed days have roll-ups; zero turns this off.</summary>
    public TimeSpan RollupInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// How many sealed months' roll-ups each instance keeps in memory for reports (checked against storage's ETag on every
    /// use, so every instance answers alike); zero keeps none. A month of a large ICS is a few megabytes.
    /// </summary>
    [Range(0, 240, ErrorMessage = "Audit:RollupCacheMonths must be between 0 and 240.")]
    public int RollupCacheMonths { get; set; } = 15;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (PseudonymKey is { Length: > 0 } key && (!TryDecode(key, out var bytes) || bytes.Length < 32))
        {
            yield return new ValidationResult("Audit:PseudonymKey must be base64 of at least 32 bytes.", [nameof(PseudonymKey)]);
        }

        if (WriteTimeout <= TimeSpan.Zero || WriteTimeout > TimeSpan.FromMinutes(5))
        {
            yield return new ValidationResult("Audit:WriteTimeout must be more than 00:00:00 and at most 00:05:00.", [nameof(WriteTimeout)]);
        }

        if (RollupSealDelay < TimeSpan.Zero || RollupSealDelay > TimeSpan.FromDays(2))
        {
            yield return new ValidationResult("Audit:RollupSealDelay must be between 00:00:00 and 2.00:00:00.", [nameof(RollupSealDelay)]);
        }

        if (RollupInterval < TimeSpan.Zero)
        {
            yield return new ValidationResult("Audit:RollupInterval must not be negative.", [nameof(RollupInterval)]);
        }
    }

    internal static bool TryDecode(string base64, out byte[] bytes)
    {
        bytes = new byte[base64.Length];
        if (Convert.TryFromBase64String(base64, bytes, out var written))
        {
            bytes = bytes[..written];
            return true;
        }

        bytes = [];
        return false;
    }

    private static string SafeMachineName() =>
        new string([.. Environment.MachineName.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')]) is { Length: > 0 } name
            ? name[..Math.Min(name.Length, 64)]
            : "gateway";
}
