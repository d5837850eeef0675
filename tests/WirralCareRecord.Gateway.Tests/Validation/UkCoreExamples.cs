namespace WirralCareRecord.Gateway.Tests.Validation;

/// <summary>Which UK Core profile each published example illustrates.</summary>
internal static class UkCoreExamples
{
    // Examples whose name does not start with their profile's name (the UK Core IG links them in its guide).
    private static readonly Dictionary<string, string> Named = new(StringComparer.Ordinal)
    {
        ["UKCore-Observation-24HourBloodPressure-Example.xml"] = "UKCore-Observation-AverageBloodPressure",
        ["UKCore-Observation-NPEWSTotal-Example.xml"] = "UKCore-Observation-EarlyWarningTotalScore",
        ["UKCore-Observation-OxygenTherapy-Example.xml"] = "UKCore-Observation-InspiredOxygen",
        ["UKCore-Observation-FastingTest-Example.xml"] = "UKCore-Observation-BloodGlucose",
        ["UKCore-Observation-HeavyDrinker-Example.xml"] = "UKCore-Observation-AlcoholConsumption",
        ["UKCore-Observation-PipeSmoker-Example.xml"] = "UKCore-Observation-TobaccoConsumption",
        ["UKCore-Observation-PatientConsciousness-Example.xml"] = "UKCore-Observation-ACVPU",
        ["UKCore-Observation-Group-FullBloodCount-Example.xml"] = "UKCore-Observation-Group-Lab",
        ["UKCore-Observation-VitalSigns-RespiratoryRate-Example.xml"] = "UKCore-Observation-VitalSigns-RespirationRate",
        ["UKCore-VitalSigns-Observation-OxygenSaturation-Example.xml"] = "UKCore-Observation-VitalSigns-OxygenSaturation",
    };

    private static readonly Lazy<IReadOnlyList<string>> ProfileIds = new(() =>
        [.. Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "profiles", "ukcore", "structuredefinitions"), "UKCore-*.xml")
            .Select(Path.GetFileNameWithoutExtension).OfType<string>()
            .OrderByDescending(id => id.Length)]);

    /// <summary>
    /// The profile an example illustrates: named above, else the longest UK Core profile name its file name starts
    /// with, else (the extension examples) the UK Core profile of its resource type.
    /// </summary>
    public static string ProfileFor(string file, string resourceType)
    {
        if (Named.TryGetValue(file, out var named))
        {
            return Definitions.UkCore + named;
        }

        var prefix = ProfileIds.Value.FirstOrDefault(id => file.StartsWith(id + "-", StringComparison.Ordinal) && (id == "UKCore-" + resourceType || id.StartsWith("UKCore-" + resourceType + "-", StringComparison.Ordinal)));
        return Definitions.UkCore + (prefix ?? "UKCore-" + resourceType);
    }
}
