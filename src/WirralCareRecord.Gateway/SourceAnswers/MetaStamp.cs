using System.Buffers;
using System.Text.Json;

namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>
/// Writes a resource for the combined record with its <c>meta.source</c> set to the gateway's address of the source it
/// came from and, when another source holds the same item, a same-item tag added to <c>meta.tag</c>. Everything else is
/// copied as byte ranges; <c>meta</c> is written right after <c>resourceType</c> (property order means nothing in FHIR JSON).
/// </summary>
/// <remarks>One instance writes many resources in turn (one combined record), reusing its lists; not thread-safe.</remarks>
internal sealed class MetaStamp
{
    private readonly List<Range> _rest = [];
    private readonly List<Range> _metaProperties = [];
    private readonly List<Range> _tags = [];

    /// <param name="json">One resource, its addresses already rewritten, whose meta <see cref="ItemFacts.Read"/> accepted.</param>
    /// <param name="sameItem">The same-item coding's code and display, or null.</param>
    public void Write(ReadOnlySpan<byte> json, string metaSource, (string System, string Code, string Display)? sameItem, IBufferWriter<byte> output)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
        reader.Read();
        var rest = _rest;
        var metaProperties = _metaProperties;
        var tags = _tags;
        rest.Clear();
        metaProperties.Clear();
        tags.Clear();
        Range? resourceType = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var start = (int)reader.TokenStartIndex;
            var isType = reader.ValueTextEquals("resourceType"u8);
            var isMeta = reader.ValueTextEquals("meta"u8);
            reader.Read();
            if (isMeta && reader.TokenType == JsonTokenType.StartObject)
            {
                ReadMeta(ref reader, metaProperties, tags);
                continue;
            }

            reader.Skip();
            var range = new Range(start, (int)reader.BytesConsumed);
            if (isType)
            {
                resourceType = range;
            }
            else
            {
                rest.Add(range);
            }
        }

        Raw(output, "{"u8);
        if (resourceType is { } type)
        {
            output.Write(json[type]);
            Raw(output, ","u8);
        }

        Raw(output, "\"meta\":{"u8);
        foreach (var property in metaProperties)
        {
            output.Write(json[property]);
            Raw(output, ","u8);
        }

        Raw(output, "\"source\":"u8);
        AddressRewriter.WriteString(output, metaSource);
        if (tags.Count > 0 || sameItem is not null)
        {
            Raw(output, ",\"tag\":["u8);
            for (var i = 0; i < tags.Count; i++)
            {
                if (i > 0)
                {
                    Raw(output, ","u8);
                }

                output.Write(json[tags[i]]);
            }

            if (sameItem is { } tag)
            {
                Raw(output, tags.Count > 0 ? ",{\"system\":"u8 : "{\"system\":"u8);
                AddressRewriter.WriteString(output, tag.System);
                Raw(output, ",\"code\":"u8);
                AddressRewriter.WriteString(output, tag.Code);
                Raw(output, ",\"display\":"u8);
                AddressRewriter.WriteString(output, tag.Display);
                Raw(output, "}"u8);
            }

            Raw(output, "]"u8);
        }

        Raw(output, "}"u8);
        foreach (var range in rest)
        {
            Raw(output, ","u8);
            output.Write(json[range]);
        }

        Raw(output, "}"u8);
    }

    /// <summary>The meta's properties other than source (replaced) and tag (whose items are kept and added to).</summary>
    private static void ReadMeta(ref Utf8JsonReader reader, List<Range> properties, List<Range> tags)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var start = (int)reader.TokenStartIndex;
            var isSource = reader.ValueTextEquals("source"u8) || reader.ValueTextEquals("_source"u8);
            var isTag = reader.ValueTextEquals("tag"u8);
            reader.Read();
            if (isTag && reader.TokenType == JsonTokenType.StartArray)
            {
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    var item = (int)reader.TokenStartIndex;
                    reader.Skip();
                    tags.Add(new Range(item, (int)reader.BytesConsumed));
                }

                continue;
            }

            reader.Skip();
            if (!isSource)
            {
                properties.Add(new Range(start, (int)reader.BytesConsumed));
            }
        }
    }

    private static void Raw(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes) => output.Write(bytes);
}
