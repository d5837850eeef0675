using System.ComponentModel.DataAnnotations;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>Where the validator's profiles come from, when it warms up, and how much of each source's data the background sampler checks.</summary>
public sealed class ValidationOptions
{
    public const string SectionName = "Validation";

    /// <summary>The profiles folder (Wirral profiles, UK Core under <c>ukcore/</c>); by default the copy of <c>profiles/</c> beside the gateway.</summary>
    public string? ProfilesPath { get; set; }

    /// <summary>Load the definitions and compile the Wirral profiles in the background at start-up, so the first validation is fast.</summary>
    public bool WarmUp { get; set; } = true;

    /// <summary>
    /// The share of source answers (0 to 1) the background sampler validates to measure each source's data quality.
    /// 0 turns sampling off. Sampling never delays a read: the answer has gone before its copy is validated.
    /// </summary>
    [Range(0.0, 1.0)]
    public double SampleShare { get; set; } = 0.05;

    /// <summary>Sampled answers waiting to be validated; when full, further samples are dropped (and counted).</summary>
    [Range(1, 100_000)]
    public int SampleQueueCapacity { get; set; } = 16;

    /// <summary>
    /// The most the sampler holds of sampled answers, queued or being validated (bytes, in 64 KB blocks kept for reuse);
    /// when full, further samples are dropped (and counted) before anything is copied. At least
    /// <see cref="SampleMaxBytes"/> plus 64 KB, so the largest answer sampled fits.
    /// </summary>
    [Range(128 * 1024, 1024L * 1024 * 1024)]
    public long SampleQueueMaxBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// The most of one core's time the sampler's worker uses (0 to 1): it rests between resources to stay within it, so
    /// validation never takes the cores reads need. 1 lets it run flat out (tests that wait for its figures).
    /// </summary>
    [Range(0.01, 1.0)]
    public double SampleMaxCpuShare { get; set; } = 0.1;

    /// <summary>The largest source answer (bytes) the sampler copies; bigger answers are not sampled.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int SampleMaxBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>The profiles folder in effect.</summary>
    public string Profiles => ProfilesPath ?? DefaultFolder("profiles");

    /// <summary>The conformance folder (value sets and code systems the profiles bind to).</summary>
    public static string Conformance => DefaultFolder("conformance");

    /// <summary>A folder copied beside the gateway at build.</summary>
    public static string DefaultFolder(string name) => Path.Combine(AppContext.BaseDirectory, name);
}
