using System.Text;
using WirralCareRecord.Gateway.SourceAnswers;

namespace WirralCareRecord.Gateway.Tests.SourceAnswers;

/// <summary>What the combined record reads from a kept resource: same-item keys, and its parts kept in the pooled arena.</summary>
public sealed class ItemFactsTests
{
    [Fact]
    public void CodesWithTheSeparatorInThem_AreNotTheSameItem()
    {
        // Arrange: two allergies whose system and code, joined with a bar, would read the same.
        var left = Allergy("a", "urn:x|y", "z");
        var right = Allergy("b", "urn:x", "y|z");

        // Act
        var leftKey = ItemFacts.Read(left, "AllergyIntolerance", "a")!.SameItemKey;
        var rightKey = ItemFacts.Read(right, "AllergyIntolerance", "b")!.SameItemKey;

        // Assert
        Assert.NotNull(leftKey);
        Assert.NotEqual(leftKey, rightKey);
        Assert.Equal(leftKey, ItemFacts.Read(Allergy("c", "urn:x|y", "z"), "AllergyIntolerance", "c")!.SameItemKey);
    }

    [Theory]
    [InlineData("2025-03-01T10:00:00Z", "2025-03-01")]
    [InlineData("2025-03-01", "2025-03-01")]
    [InlineData("2025-03", null)]
    [InlineData("2025\\u002D03-01T10:00:00Z", "2025-03-01")]
    public void AnEventsDay_IsTheFirstTenCharactersOfItsDate(string sent, string? day)
    {
        var json = Encoding.UTF8.GetBytes($$$"""{"resourceType":"Immunization","id":"i","vaccineCode":{"coding":[{"system":"http://snomed.info/sct","code":"123"}]},"occurrenceDateTime":"{{{sent}}}"}""");

        var key = ItemFacts.Read(json, "Immunization", "i")!.SameItemKey;

        Assert.Equal(day, key?.Day);
    }

    [Fact]
    public void PartsInTheArena_AreThePartsOfTheirOwn_ForManyResources()
    {
        // Arrange: enough resources to fill several of the arena's chunks, and one with more parts than a chunk holds.
        var resources = Enumerable.Range(0, 400).Select(i => Allergy($"r{i}", "http://snomed.info/sct", $"{i}")).ToList();
        var wide = "{\"resourceType\":\"Basic\",\"id\":\"wide\"," + string.Join(",", Enumerable.Range(0, 1500).Select(i => $"\"e{i}\":{i}")) + "}";
        resources.Insert(200, Encoding.UTF8.GetBytes(wide));
        using var arena = new IntArena();

        // Act
        var stored = resources.Select(r => ItemFacts.Read(r, "X", "x", arena)!.Parts).ToList();

        // Assert
        for (var i = 0; i < resources.Count; i++)
        {
            Assert.Equal(ItemFacts.Read(resources[i], "X", "x")!.Parts.ToArray(), stored[i].ToArray());
        }

        Assert.Equal(1502 * 4, stored[200].Length);
    }

    private static byte[] Allergy(string id, string system, string code) =>
        Encoding.UTF8.GetBytes($$$"""{"resourceType":"AllergyIntolerance","id":"{{{id}}}","meta":{"tag":[{"code":"t"}]},"code":{"coding":[{"system":"{{{system}}}","code":"{{{code}}}"}]},"patient":{"reference":"Patient/1"}}""");
}
