using System.Buffers;
using Part = WirralCareRecord.Gateway.SourceAnswers.ItemFacts.Part;

namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>
/// Writes a kept resource for the combined record in one pass over its parts (<see cref="ItemFacts.Parts"/>): every
/// value copied with the source's addresses rewritten (<see cref="AddressRewriter"/>), <c>meta.source</c> set to the
/// gateway's address of the source it came from and, when another source holds the same item, a same-item tag added to
/// <c>meta.tag</c>. <c>meta</c> is written right after <c>resourceType</c>; property order means nothing in FHIR JSON.
/// </summary>
internal static class MetaStamp
{
    /// <param name="sameItem">The same-item coding, or null.</param>
    public static void Write(ReadOnlySpan<byte> json, ReadOnlySpan<int> parts, AddressRewriter rewriter, string metaSource, (string System, string Code, string Display)? sameItem, IBufferWriter<byte> output)
    {
        output.Write("{"u8);
        for (var i = 0; i < parts.Length; i += 4)
        {
            if ((Part)parts[i] == Part.ResourceType)
            {
                output.Write(json[parts[i + 1]..parts[i + 3]]);
                output.Write(","u8);
            }
        }

        output.Write("\"meta\":{"u8);
        var tags = 0;
        for (var i = 0; i < parts.Length; i += 4)
        {
            switch ((Part)parts[i])
            {
                case Part.Meta:
                    Property(json, parts, i, rewriter, output);
                    output.Write(","u8);
                    break;
                case Part.Tag:
                    tags++;
                    break;
            }
        }

        output.Write("\"source\":"u8);
        AddressRewriter.WriteString(output, metaSource);
        if (tags > 0 || sameItem is not null)
        {
            output.Write(",\"tag\":["u8);
            var first = true;
            for (var i = 0; i < parts.Length; i += 4)
            {
                if ((Part)parts[i] == Part.Tag)
                {
                    output.Write(first ? ""u8 : ","u8);
                    first = false;
                    rewriter.Copy(json[parts[i + 2]..parts[i + 3]], output);
                }
            }

            if (sameItem is { } tag)
            {
                output.Write(first ? "{\"system\":"u8 : ",{\"system\":"u8);
                AddressRewriter.WriteString(output, tag.System);
                output.Write(",\"code\":"u8);
                AddressRewriter.WriteString(output, tag.Code);
                output.Write(",\"display\":"u8);
                AddressRewriter.WriteString(output, tag.Display);
                output.Write("}"u8);
            }

            output.Write("]"u8);
        }

        output.Write("}"u8);
        for (var i = 0; i < parts.Length; i += 4)
        {
            if ((Part)parts[i] == Part.Element)
            {
                output.Write(","u8);
                Property(json, parts, i, rewriter, output);
            }
        }

        output.Write("}"u8);
    }

    /// <summary>A property as sent: its name as it was, its value with the source's addresses rewritten.</summary>
    private static void Property(ReadOnlySpan<byte> json, ReadOnlySpan<int> parts, int i, AddressRewriter rewriter, IBufferWriter<byte> output)
    {
        output.Write(json[parts[i + 1]..parts[i + 2]]);
        rewriter.Copy(json[parts[i + 2]..parts[i + 3]], output);
    }
}
