using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>The designated test patients flow tests may fetch (<see cref="RegistryOptions.TestPatients"/>).</summary>
public static class TestPatients
{
    /// <summary>The configured test patients' NHS numbers, standardised; invalid entries are refused at start-up.</summary>
    public static IReadOnlyList<string> Designated(RegistryOptions options) =>
        [.. options.TestPatients.Select(n => NhsNumber.Check(n)).Where(c => c.IsValid).Select(c => c.Value!).Distinct(StringComparer.Ordinal)];

    /// <summary>Why the configured list cannot be used in <paramref name="environment"/>, or null when it can.</summary>
    public static string? Problem(RegistryOptions options, IHostEnvironment environment)
    {
        var invalid = options.TestPatients.Where(n => !NhsNumber.Check(n).IsValid).ToList();
        if (invalid.Count > 0)
        {
            return $"Registry:TestPatients holds {invalid.Count} entr{(invalid.Count == 1 ? "y that is" : "ies that are")} not a valid NHS number.";
        }

        // A flow test in Production reaches real systems: only numbers that are never issued to a person may be asked for.
        return environment.IsProduction() && options.TestPatients.Any(n => NhsNumber.RegionOf(n) != NhsNumberRegion.Synthetic)
            ? "Registry:TestPatients must hold only synthetic test-range NHS numbers (9xx xxx xxxx) in Production."
            : null;
    }
}
