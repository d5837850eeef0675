using System.Collections.Frozen;

namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>
/// Security labels that keep an item out of the shared record altogether: restricted (R) and very restricted (V)
/// confidentiality always, plus whatever <see cref="Federation.FederationOptions.RestrictedLabels"/> adds
/// (for example sensitivity codes from v3-ActCode).
/// </summary>
internal sealed class RestrictedLabels
{
    public const string ConfidentialitySystem = PatientMatching.RecordSafety.ConfidentialitySystem;

    private readonly FrozenSet<string> _labels;

    public RestrictedLabels(IEnumerable<string> configured)
    {
        _labels = new[] { $"{ConfidentialitySystem}|R", $"{ConfidentialitySystem}|V" }.Concat(configured).ToFrozenSet(StringComparer.Ordinal);
    }

    public static RestrictedLabels Default { get; } = new([]);

    public bool IsRestricted(string? system, string? code) =>
        code is not null && _labels.Contains($"{system}|{code}");
}
