using System.Runtime.InteropServices;
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
        // One pass notes each key's first source and whether another source has it too; only keys shared that way (few)
        // get a list of their sources. Nothing else is allocated per item.
        // One dictionary per thread, emptied after each record, so its tables are not allocated again for every read.
        var keys = _idle ?? new Dictionary<SameItemKey, Group>(sources.Sum(s => s.Items.Count));
        _idle = null;
        try
        {
            return Link(sources, keys);
        }
        finally
        {
            keys.Clear();
            // A huge record must not leave the thread holding tables sized for it.
            _idle = keys.Capacity <= MaxIdleCapacity ? keys : null;
        }
    }

    private const int MaxIdleCapacity = 8192;

    [ThreadStatic]
    private static Dictionary<SameItemKey, Group>? _idle;

    private static (string Code, string Display)?[][] Link(IReadOnlyList<(string OdsCode, KeptResources Items)> sources, Dictionary<SameItemKey, Group> keys)
    {
        for (var s = 0; s < sources.Count; s++)
        {
            var items = sources[s].Items;
            for (var i = 0; i < items.Count; i++)
            {
                if (items[i].Facts.SameItemKey is not { } key)
                {
                    continue;
                }

                ref var group = ref CollectionsMarshal.GetValueRefOrAddDefault(keys, key, out var exists);
                if (!exists)
                {
                    group = new Group(s);
                }
                else if (!string.Equals(sources[s].OdsCode, sources[group.FirstSource].OdsCode, StringComparison.OrdinalIgnoreCase))
                {
                    group.OdsCodes ??= [sources[group.FirstSource].OdsCode];
                    if (!group.OdsCodes.Contains(sources[s].OdsCode, StringComparer.OrdinalIgnoreCase))
                    {
                        group.OdsCodes.Add(sources[s].OdsCode);
                    }
                }
            }
        }

        // Groups are numbered in the order their first item appears, which is the order of this second pass.
        var tags = new (string Code, string Display)?[sources.Count][];
        var n = 0;
        for (var s = 0; s < sources.Count; s++)
        {
            var items = sources[s].Items;
            tags[s] = new (string, string)?[items.Count];
            for (var i = 0; i < items.Count; i++)
            {
                if (items[i].Facts.SameItemKey is not { } key)
                {
                    continue;
                }

                ref var group = ref CollectionsMarshal.GetValueRefOrNullRef(keys, key);
                if (group.OdsCodes is null)
                {
                    continue;
                }

                group.Tag ??= ($"same-{++n}", $"Same item recorded by {string.Join(", ", group.OdsCodes)}");
                tags[s][i] = group.Tag;
            }
        }

        return tags;
    }

    /// <summary>A same-item key's first source and, once another source has it too, every source's ODS code in order.</summary>
    private struct Group(int firstSource)
    {
        public readonly int FirstSource = firstSource;
        public List<string>? OdsCodes;
        public (string Code, string Display)? Tag;
    }
}
