using System.Text;
using System.Text.Json;

namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>
/// Element names, resource types and codes as strings without a new string per occurrence: FHIR answers repeat a few
/// hundred names thousands of times, and the streaming pass reads them on every resource.
/// </summary>
internal static class NameCache
{
    private static readonly StringTable Names = new(4096, 64);

    /// <summary>The current token's text (a property name or a string value).</summary>
    public static string Get(ref Utf8JsonReader reader) => Names.Get(ref reader);
}

/// <summary>
/// A fixed table of recent strings, looked up by their UTF-8 bytes' hash; a miss (or a collision) simply makes a new
/// string and takes the slot. Safe to share between threads: a slot holds a whole string or none.
/// </summary>
internal sealed class StringTable(int slots, int maxLength)
{
    private readonly string?[] _table = new string?[slots];

    /// <summary>The current token's text (a property name or a string value).</summary>
    public string Get(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped || reader.HasValueSequence || reader.ValueSpan.Length > maxLength)
        {
            return reader.GetString()!;
        }

        return Get(reader.ValueSpan);
    }

    /// <summary>The text of <paramref name="bytes"/> (UTF-8, no escapes, at most the table's longest).</summary>
    public string Get(ReadOnlySpan<byte> bytes)
    {
        var slot = (int)((uint)HashCode(bytes) % (uint)_table.Length);
        var cached = Volatile.Read(ref _table[slot]);
        if (cached is not null && Matches(cached, bytes))
        {
            return cached;
        }

        var created = Encoding.UTF8.GetString(bytes);
        Volatile.Write(ref _table[slot], created);
        return created;
    }

    /// <summary>Forgets every string: a table kept for one answer's values holds none of them after it.</summary>
    public void Clear() => Array.Clear(_table);

    private static int HashCode(ReadOnlySpan<byte> bytes)
    {
        var hash = new HashCode();
        hash.AddBytes(bytes);
        return hash.ToHashCode();
    }

    /// <summary>Names are ASCII in practice; anything else is compared by its decoded length and bytes.</summary>
    private static bool Matches(string cached, ReadOnlySpan<byte> bytes)
    {
        if (cached.Length != bytes.Length)
        {
            return Encoding.UTF8.GetByteCount(cached) == bytes.Length && Encoding.UTF8.GetBytes(cached).AsSpan().SequenceEqual(bytes);
        }

        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] >= 0x80)
            {
                // Not ASCII: a string's chars and UTF-8 bytes can agree one for one without meaning the same text.
                return Encoding.UTF8.GetBytes(cached).AsSpan().SequenceEqual(bytes);
            }

            if (cached[i] != bytes[i])
            {
                return false;
            }
        }

        return true;
    }
}
