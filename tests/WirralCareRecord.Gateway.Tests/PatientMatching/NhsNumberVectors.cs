using System.Text.Json.Nodes;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Tests.PatientMatching;

/// <summary>
/// The <c>nhs-number</c> reference implementation's language-agnostic vectors (uk-fci/nhs-number
/// <c>tests/vectors/nhs_number_cases.json</c>), read at test time so vectors added to the fixture are tested without code changes.
/// </summary>
internal static class NhsNumberVectors
{
    private static readonly Lazy<JsonObject> Document = new(Load);

    /// <summary>The reference's <c>REGION_*</c> names.</summary>
    private static readonly Dictionary<string, NhsNumberRegion> Regions = new(StringComparer.Ordinal)
    {
        ["UNALLOCATED"] = NhsNumberRegion.Unallocated,
        ["SCOTLAND"] = NhsNumberRegion.Scotland,
        ["NORTHERN_IRELAND"] = NhsNumberRegion.NorthernIreland,
        ["ENGLAND_WALES_IOM"] = NhsNumberRegion.EnglandWalesIsleOfMan,
        ["RESERVED"] = NhsNumberRegion.Reserved,
        ["EIRE"] = NhsNumberRegion.Eire,
        ["SYNTHETIC"] = NhsNumberRegion.Synthetic,
    };

    public static IEnumerable<JsonObject> Section(string name)
    {
        var section = Document.Value[name] as JsonArray
            ?? throw new InvalidOperationException($"The vectors file has no '{name}' section.");
        return section.Select(node => node!.AsObject());
    }

    public static NhsNumberRegion Region(string name) =>
        Regions.TryGetValue(name, out var region)
            ? region
            : throw new InvalidOperationException($"Unknown region '{name}' in the vectors file: map it in {nameof(NhsNumberVectors)}.");

    /// <summary>
    /// The range a reference <c>RANGE_*</c> name stands for: <c>UNALLOCATED_1</c> is the first Unallocated range,
    /// <c>SCOTLAND</c> the only Scotland one.
    /// </summary>
    public static NhsNumberRange Range(string name)
    {
        var lastUnderscore = name.LastIndexOf('_');
        var ordinal = 1;
        var regionName = name;
        if (lastUnderscore > 0 && int.TryParse(name.AsSpan(lastUnderscore + 1), out var parsed))
        {
            ordinal = parsed;
            regionName = name[..lastUnderscore];
        }

        var region = Region(regionName);
        return NhsNumber.Ranges.Where(range => range.Region == region).ElementAt(ordinal - 1);
    }

    private static JsonObject Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "nhs-number", "nhs_number_cases.json");
        return JsonNode.Parse(File.ReadAllText(path))!.AsObject();
    }
}
