using WirralCareRecord.Gateway.SourceAnswers;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>
/// Recognises the same fact recorded at two or more sources (the same allergy or medicine code from the GP and the
/// hospital, the same vaccination on the same day) and links the copies with a shared <c>meta.tag</c>. Both copies
/// stay, each with its own provenance; a reader counts one item per tag code.
/// </summary>
/// <remarks>
/// What makes two items the same fact is read by <see cref="ItemFacts.Read"/>: the coded thing, and for events the day
/// it happened. Medicines match across statements and requests, as a GP's prescription and a hospital's medication
/// history describe the same drug.
/// </remarks>
public static class SameItemLinker
{
    public const string TagSystem = "https://fhir.wirralcarerecord.nhs.uk/CodeSystem/wcr-same-item";

    /// <summary>
    /// The same-item tag for each item whose key is shared by items from more than one source, by source and item
    /// position in <paramref name="sources"/> (null where there is none). Groups are numbered in the order their first item appears.
    /// </summary>
    internal static (string Code, string Display)?[][] Link(IReadOnlyList<(string OdsCode, KeptResources Items)> sources)
    {
        var groups = new Dictionary<string, List<(int Source, int Item)>>(StringComparer.Ordinal);
        var order = new List<string>();
        for (var s = 0; s < sources.Count; s++)
        {
            var items = sources[s].Items;
            for (var i = 0; i < items.Count; i++)
            {
                if (items[i].Facts.SameItemKey is not { } key)
                {
                    continue;
                }

                if (!groups.TryGetValue(key, out var members))
                {
                    groups[key] = members = [];
                    order.Add(key);
                }

                members.Add((s, i));
            }
        }

        var tags = new (string Code, string Display)?[sources.Count][];
        for (var s = 0; s < sources.Count; s++)
        {
            tags[s] = new (string, string)?[sources[s].Items.Count];
        }

        var n = 0;
        foreach (var key in order)
        {
            var members = groups[key];
            var odsCodes = members.Select(m => sources[m.Source].OdsCode).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            if (odsCodes.Count < 2)
            {
                continue;
            }

            n++;
            var tag = ($"same-{n}", $"Same item recorded by {string.Join(", ", odsCodes)}");
            foreach (var (source, item) in members)
            {
                tags[source][item] = tag;
            }
        }

        return tags;
    }
}
