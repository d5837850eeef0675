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
        // Checked once for the whole resource: when nothing in it needs rewriting, no part does, and the elements that
        // lie next to each other in the source (all but resourceType and meta, as a rule) go out as one copy.
        var verbatim = rewriter.LeavesUnchanged(json);
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
                    Property(json, parts, i, verbatim ? null : rewriter, output);
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
                    Value(json[parts[i + 2]..parts[i + 3]], verbatim ? null : rewriter, output);
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
        // A run of elements separated in the source only by their commas: [start, end) of the bytes still to be written.
        int runStart = -1, runEnd = -1;
        for (var i = 0; i < parts.Length; i += 4)
        {
            if ((Part)parts[i] != Part.Element)
            {
                continue;
            }

            if (!verbatim)
            {
                output.Write(","u8);
                Property(json, parts, i, rewriter, output);
            }
            else if (runStart >= 0 && IsSeparator(json[runEnd..parts[i + 1]]))
            {
                runEnd = parts[i + 3];
            }
            else
            {
                WriteRun(json, runStart, runEnd, output);
                (runStart, runEnd) = (parts[i + 1], parts[i + 3]);
            }
        }

        WriteRun(json, runStart, runEnd, output);
        output.Write("}"u8);
    }

    private static void WriteRun(ReadOnlySpan<byte> json, int start, int end, IBufferWriter<byte> output)
    {
        if (start >= 0)
        {
            output.Write(","u8);
            output.Write(json[start..end]);
        }
    }

    /// <summary>Only the comma between two properties, and any JSON whitespace around it.</summary>
    private static bool IsSeparator(ReadOnlySpan<byte> between) => between.Trim(" \t\r\n"u8) is [(byte)','];

    /// <summary>A property as sent: its name as it was, its value with the source's addresses rewritten (none: as it is).</summary>
    private static void Property(ReadOnlySpan<byte> json, ReadOnlySpan<int> parts, int i, AddressRewriter? rewriter, IBufferWriter<byte> output)
    {
        output.Write(json[parts[i + 1]..parts[i + 2]]);
        Value(json[parts[i + 2]..parts[i + 3]], rewriter, output);
    }

    private static void Value(ReadOnlySpan<byte> value, AddressRewriter? rewriter, IBufferWriter<byte> output)
    {
        if (rewriter is null)
        {
            output.Write(value);
        }
        else
        {
            rewriter.Copy(value, output);
        }
    }
}
