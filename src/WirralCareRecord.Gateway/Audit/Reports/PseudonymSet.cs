using System.Buffers;
using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// An exact set of pseudonyms, held as a sorted array without repeats. Distinct counts over a period are unions of its
/// parts' sets; merging sorted arrays does that in one pass over each, with no hashing and one allocation per union,
/// which is what keeps a year's report over millions of events fast. Never changed once made.
/// </summary>
[JsonConverter(typeof(PseudonymSetJsonConverter))]
internal sealed class PseudonymSet
{
    private readonly ulong[] _values;

    private PseudonymSet(ulong[] sortedDistinct) => _values = sortedDistinct;

    public static PseudonymSet Empty { get; } = new([]);

    public int Count => _values.Length;

    public ReadOnlySpan<ulong> Values => _values;

    public static PseudonymSet Of(IEnumerable<ulong> values)
    {
        var array = values.ToArray();
        return array.Length == 0 ? Empty : new PseudonymSet(SortDistinct(array));
    }

    /// <summary>The union of the sets, merged pairwise in a balanced tree: each value is copied about log2(k) times.</summary>
    public static PseudonymSet Union(IReadOnlyList<PseudonymSet> sets)
    {
        var parts = sets.Where(s => s.Count > 0).ToList();
        switch (parts.Count)
        {
            case 0:
                return Empty;
            case 1:
                return parts[0];
        }

        while (parts.Count > 1)
        {
            var next = new List<PseudonymSet>((parts.Count + 1) / 2);
            for (var i = 0; i + 1 < parts.Count; i += 2)
            {
                next.Add(Merge(parts[i]._values, parts[i + 1]._values));
            }

            if (parts.Count % 2 == 1)
            {
                next.Add(parts[^1]);
            }

            parts = next;
        }

        return parts[0];
    }

    /// <summary>
    /// The size of the union, for figures that are only counted: merged pairwise like <see cref="Union"/>, but into
    /// pooled buffers and the last pair only counted, so a year of unions leaves nothing for the collector.
    /// </summary>
    public static int CountUnion(IReadOnlyList<PseudonymSet> sets)
    {
        var parts = new List<(ulong[] Values, int Length, bool Rented)>(sets.Count);
        parts.AddRange(sets.Where(s => s.Count > 0).Select(s => (s._values, s._values.Length, false)));
        try
        {
            while (parts.Count > 2)
            {
                var next = new List<(ulong[] Values, int Length, bool Rented)>((parts.Count + 1) / 2);
                for (var i = 0; i + 1 < parts.Count; i += 2)
                {
                    var (a, b) = (parts[i], parts[i + 1]);
                    var merged = ArrayPool<ulong>.Shared.Rent(a.Length + b.Length);
                    next.Add((merged, Merge(a.Values.AsSpan(0, a.Length), b.Values.AsSpan(0, b.Length), merged), true));
                    Return(a);
                    Return(b);
                }

                if (parts.Count % 2 == 1)
                {
                    next.Add(parts[^1]);
                }

                parts = next;
            }

            return parts.Count switch
            {
                0 => 0,
                1 => parts[0].Length,
                _ => Merge(parts[0].Values.AsSpan(0, parts[0].Length), parts[1].Values.AsSpan(0, parts[1].Length), null),
            };
        }
        finally
        {
            parts.ForEach(Return);
        }

        static void Return((ulong[] Values, int Length, bool Rented) part)
        {
            if (part.Rented)
            {
                ArrayPool<ulong>.Shared.Return(part.Values);
            }
        }
    }

    /// <summary>
    /// The stored form: the sorted values as 8-byte little-endian integers, base64 in JSON. The same set always gives the
    /// same bytes, and it is the form day roll-ups have always been stored in.
    /// </summary>
    internal static PseudonymSet Read(ReadOnlySpan<byte> littleEndian)
    {
        var values = MemoryMarshal.Cast<byte, ulong>(littleEndian[..(littleEndian.Length / sizeof(ulong) * sizeof(ulong))]).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(values[i]);
            }
        }

        return FromStored(values);
    }

    internal ReadOnlySpan<byte> LittleEndianBytes()
    {
        if (BitConverter.IsLittleEndian)
        {
            return MemoryMarshal.AsBytes(_values.AsSpan());
        }

        var swapped = _values.Select(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness).ToArray();
        return MemoryMarshal.AsBytes(swapped.AsSpan());
    }

    /// <summary>Stored values are written sorted; a document edited or written otherwise is sorted again rather than trusted.</summary>
    internal static PseudonymSet FromStored(ulong[] values)
    {
        if (values.Length == 0)
        {
            return Empty;
        }

        for (var i = 1; i < values.Length; i++)
        {
            if (values[i - 1] >= values[i])
            {
                return new PseudonymSet(SortDistinct(values));
            }
        }

        return new PseudonymSet(values);
    }

    private static ulong[] SortDistinct(ulong[] values)
    {
        Array.Sort(values);
        var kept = values.Length == 0 ? 0 : 1;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] != values[kept - 1])
            {
                values[kept++] = values[i];
            }
        }

        return kept == values.Length ? values : values[..kept];
    }

    private static PseudonymSet Merge(ulong[] a, ulong[] b)
    {
        var merged = new ulong[a.Length + b.Length];
        var n = Merge(a, b, merged);
        return new PseudonymSet(n == merged.Length ? merged : merged[..n]);
    }

    /// <summary>Merges two sorted runs into <paramref name="into"/> (or only counts, when it is null); returns the union's size.</summary>
    private static int Merge(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, ulong[]? into)
    {
        int i = 0, j = 0, n = 0;
        if (into is null)
        {
            while (i < a.Length && j < b.Length)
            {
                var (x, y) = (a[i], b[j]);
                i += x <= y ? 1 : 0;
                j += y <= x ? 1 : 0;
                n++;
            }

            return n + (a.Length - i) + (b.Length - j);
        }

        while (i < a.Length && j < b.Length)
        {
            var (x, y) = (a[i], b[j]);
            into[n++] = x <= y ? x : y;
            i += x <= y ? 1 : 0;
            j += y <= x ? 1 : 0;
        }

        a[i..].CopyTo(into.AsSpan(n));
        n += a.Length - i;
        b[j..].CopyTo(into.AsSpan(n));
        return n + b.Length - j;
    }
}

/// <summary>Reads and writes a <see cref="PseudonymSet"/> as base64 straight from and to the JSON bytes, with no string in between.</summary>
internal sealed class PseudonymSetJsonConverter : JsonConverter<PseudonymSet>
{
    public override PseudonymSet Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException("A pseudonym set is a base64 string.");
        }

        if (reader.HasValueSequence || reader.ValueIsEscaped)
        {
            // Escaped ('+' as \u002B, as older roll-ups were written) or split across buffers: the reader unescapes.
            return PseudonymSet.Read(reader.GetBytesFromBase64());
        }

        var base64 = reader.ValueSpan;
        var padding = base64.EndsWith("=="u8) ? 2 : base64.EndsWith("="u8) ? 1 : 0;
        var length = base64.Length / 4 * 3 - padding;
        if (base64.Length % 4 != 0 || length % sizeof(ulong) != 0 || !BitConverter.IsLittleEndian)
        {
            return PseudonymSet.Read(reader.GetBytesFromBase64());
        }

        // Decoded straight into the array the set keeps: no intermediate string or byte array for sets of a million.
        var values = new ulong[length / sizeof(ulong)];
        if (Base64.DecodeFromUtf8(base64, MemoryMarshal.AsBytes(values.AsSpan()), out _, out var written) != OperationStatus.Done || written != length)
        {
            throw new JsonException("A pseudonym set is not valid base64.");
        }

        return PseudonymSet.FromStored(values);
    }

    public override void Write(Utf8JsonWriter writer, PseudonymSet value, JsonSerializerOptions options) =>
        writer.WriteBase64StringValue(value.LittleEndianBytes());
}
