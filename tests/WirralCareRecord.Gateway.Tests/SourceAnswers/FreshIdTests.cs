using WirralCareRecord.Gateway.SourceAnswers;

namespace WirralCareRecord.Gateway.Tests.SourceAnswers;

public sealed class FreshIdTests
{
    [Fact]
    public void New_IsAVersion4UuidOfTheRfcVariant_AndNeverRepeats()
    {
        var ids = Enumerable.Range(0, 10_000).Select(_ => FreshId.New()).ToList();

        Assert.All(ids, id =>
        {
            Assert.Equal(4, id.Version);
            // RFC 9562 variant (binary 10x): the 17th hex digit is 8, 9, a or b.
            Assert.Contains(id.ToString()[19], "89ab");
        });
        Assert.Equal(ids.Count, ids.Distinct().Count());
        // The other 122 bits vary: every hex position but the fixed ones takes more than one value.
        var texts = ids.Select(id => id.ToString("N")).ToList();
        Assert.All(Enumerable.Range(0, 32).Where(i => i != 12), i => Assert.True(texts.Select(t => t[i]).Distinct().Count() > 1, $"hex digit {i} never varies"));
    }
}
