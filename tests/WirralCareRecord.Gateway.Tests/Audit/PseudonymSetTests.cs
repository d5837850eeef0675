using System.Buffers.Binary;
using System.Text.Json;
using WirralCareRecord.Gateway.Audit;

namespace WirralCareRecord.Gateway.Tests.Audit;

public sealed class PseudonymSetTests
{
    [Fact]
    public void PseudonymSetUnion_OverlappingRandomSets_IsTheExactUnion()
    {
        var random = new Random(3);
        // Drawn from a small range so the sets overlap heavily, as staff do across days.
        var sets = Enumerable.Range(0, 13).Select(_ => Enumerable.Range(0, random.Next(0, 500)).Select(_ => (ulong)random.Next(2000)).ToList()).ToList();

        var union = PseudonymSet.Union([.. sets.Select(PseudonymSet.Of)]);

        var expected = sets.SelectMany(s => s).Distinct().Order().ToArray();
        Assert.Equal(expected, union.Values.ToArray());
    }

    [Fact]
    public void PseudonymSetJson_WrittenAndAsOlderRollupsWroteIt_ReadsTheSameSet()
    {
        // The smallest value's first bytes (FB EF BE) are "++++" in base64.
        var set = PseudonymSet.Of([ulong.MaxValue, 0x00BE_EFFB, 0xFFFF_FFFF_FFBE_EFFB, 0x00BE_EFFB]);
        // Older roll-ups held base64 as a string, which the serializer escaped ('+' as \u002B).
        var bytes = new byte[set.Count * sizeof(ulong)];
        for (var i = 0; i < set.Count; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(i * sizeof(ulong)), set.Values[i]);
        }

        var older = JsonSerializer.Serialize(Convert.ToBase64String(bytes));

        var written = JsonSerializer.Deserialize<PseudonymSet>(JsonSerializer.Serialize(set))!;
        var read = JsonSerializer.Deserialize<PseudonymSet>(older)!;

        Assert.Contains("\\u002B", older, StringComparison.Ordinal);
        Assert.Equal(new ulong[] { 0x00BE_EFFB, 0xFFFF_FFFF_FFBE_EFFB, ulong.MaxValue }, written.Values.ToArray());
        Assert.Equal(written.Values.ToArray(), read.Values.ToArray());
    }
}
