using System.Text;
using System.Text.Json;

namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>
/// Element names, resource types and codes as strings without a new string per occurrence: FHIR answers repeat a few
/// hundred names thousands of times, and the streaming pass reads them on every resource. A fixed table of recent
/// strings, looked up by the bytes' hash; a miss (or a collision) simply makes a new string.
/// </summary>
internal static class NameCache
{
    private const int Slots = 4096;
    private const int MaxLength = 64;
    private static readonly string?[] Table = new string?[Slots];

    /// <summary>The current token's text (a property name or a string value).</summary>
    public static string Get(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped || reader.HasValueSequence || reader.ValueSpan.Length > MaxLength)
        {
            return reader.GetString()!;
        }

        var bytes = reader.ValueSpan;
        var slot = (int)((uint)HashCode(bytes) % Slots);
        var cached = Volatile.Read(ref Table[slot]);
        if (cached is not null && Matches(cached, bytes))
        {
            return cached;
        }

        var created = Encoding.UTF8.GetString(bytes);
        Volatile.Write(ref Table[slot], created);
        return created;
    }

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
