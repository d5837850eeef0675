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
    /// The size of the union, for figures that are only counted. The values are cut by their top bits into buckets of a
    /// few ten thousand, and each bucket's runs are merged pairwise in two small per-thread buffers: every step stays in the
    /// processor's cache and nothing large is allocated, so a year of unions leaves nothing for the collector.
    /// Pseudonyms are HMAC output, so the buckets come out even; uneven ones would only be slower.
    /// </summary>
    public static int CountUnion(IReadOnlyList<PseudonymSet> sets)
    {
        var parts = sets.Where(s => s.Count > 0).Select(s => s._values).ToArray();
        if (parts.Length <= 1)
        {
            return parts.Length == 0 ? 0 : parts[0].Length;
        }

        var total = parts.Sum(p => (long)p.Length);
        var bits = (int)Math.Clamp(Math.Ceiling(Math.Log2(total / (double)BucketSize)), 1, 24);
        var shift = 64 - bits;
        var scratch = t_scratch ??= new CountScratch();
        var cursors = new int[parts.Length];
        var count = 0;
        for (ulong bucket = 0; bucket < 1UL << bits; bucket++)
        {
            scratch.Runs.Clear();
            var length = 0;
            for (var j = 0; j < parts.Length; j++)
            {
                var values = parts[j];
                var from = cursors[j];
                var to = from;
                while (to < values.Length && values[to] >> shift == bucket)
                {
                    to++;
                }

                if (to > from)
                {
                    scratch.Ensure(length + to - from);
                    values.AsSpan(from, to - from).CopyTo(scratch.Source.AsSpan(length));
                    scratch.Runs.Add(to - from);
                    length += to - from;
                    cursors[j] = to;
                }
            }

            count += scratch.CountRuns(length);
        }

        return count;
    }

    private const int BucketSize = 16_384;

    [ThreadStatic]
    private static CountScratch? t_scratch;

    /// <summary>One thread's buffers for <see cref="CountUnion"/>: runs are merged from one into the other, level by level.</summary>
    private sealed class CountScratch
    {
        public ulong[] Source { get; private set; } = new ulong[BucketSize * 2];

        public ulong[] Target { get; private set; } = new ulong[BucketSize * 2];

        public List<int> Runs { get; } = [];

        private readonly List<int> _next = [];

        public void Ensure(int length)
        {
            if (length > Source.Length)
            {
                var grown = new ulong[Math.Max(length, Source.Length * 2)];
                Source.AsSpan().CopyTo(grown);
                Source = grown;
                Target = new ulong[grown.Length];
            }
        }

        /// <summary>The size of the union of the sorted runs laid end to end in <see cref="Source"/>.</summary>
        public int CountRuns(int length)
        {
            while (Runs.Count > 2)
            {
                _next.Clear();
                int read = 0, written = 0;
                for (var i = 0; i + 1 < Runs.Count; i += 2)
                {
                    var a = Source.AsSpan(read, Runs[i]);
                    var b = Source.AsSpan(read + Runs[i], Runs[i + 1]);
                    var merged = Merge(a, b, Target.AsSpan(written));
                    _next.Add(merged);
                    read += Runs[i] + Runs[i + 1];
                    written += merged;
                }

                if (Runs.Count % 2 == 1)
                {
                    Source.AsSpan(read, Runs[^1]).CopyTo(Target.AsSpan(written));
                    _next.Add(Runs[^1]);
                }

                (Source, Target) = (Target, Source);
                Runs.Clear();
                Runs.AddRange(_next);
            }

            return Runs.Count switch
            {
                0 => 0,
                1 => Runs[0],
                _ => Merge(Source.AsSpan(0, Runs[0]), Source.AsSpan(Runs[0], Runs[1]), []),
            };
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

    /// <summary>Merges two sorted runs into <paramref name="into"/> (or only counts, when it is empty); returns the union's size.</summary>
    private static int Merge(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, Span<ulong> into)
    {
        int i = 0, j = 0, n = 0;
        if (into.IsEmpty)
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

        a[i..].CopyTo(into[n..]);
        n += a.Length - i;
        b[j..].CopyTo(into[n..]);
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
