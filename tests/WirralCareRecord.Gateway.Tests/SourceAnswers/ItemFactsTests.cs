using System.Text;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.SourceAnswers;
using WirralCareRecord.Gateway.Tests.Validation;

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

    [Fact]
    public void FromTheSafetyScansOutline_TheSameAsReadOnItsOwn_ForUkCoreExamplesAndOddShapes()
    {
        // Arrange: every UK Core example, and shapes a careless source sends: names spelt with escapes, resourceType last,
        // a contained resource with its own meta, code and date (none of them the outer resource's), meta twice, a tag
        // that is not a list.
        var examples = Definitions.UkCoreExamples().Select(FhirJson.SerializeToUtf8).ToList();
        string[] odd =
        [
            """{"id":"o1","co\u0064e":{"coding":[{"system":"http://snomed.info/sct","code":"1"}]},"effective\u0044ateTime":"2025-01-02","resourceType":"Observation"}""",
            """{"resourceType":"Observation","id":"o2","contained":[{"resourceType":"Observation","id":"c","meta":{"tag":[{"code":"x"}]},"code":{"coding":[{"system":"s","code":"inner"}]},"effectiveDateTime":"2020-01-01"}],"code":{"coding":[{"system":"s","code":"outer"}]},"effectiveDateTime":"2025-01-02"}""",
            """{"resourceType":"Encounter","id":"e","meta":{"source":"x","versionId":"1"},"meta":{"tag":[{"code":"t"}]},"class":{"system":"s","code":"AMB"},"period":{"start":"2025-02-03T10:00:00Z"},"serviceProvider":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RBL"}}}""",
            """{"resourceType":"Condition","id":"c","meta":{"tag":{"code":"t"}},"code":{"coding":[{"system":"s","code":"1"}]}}""",
        ];
        examples.AddRange(odd.Select(Encoding.UTF8.GetBytes));
        using var scanner = FactsScanner.Rent();
        var compared = 0;

        // Act + Assert
        foreach (var json in examples)
        {
            var facts = scanner.Scan(json, RestrictedLabels.Default);
            if (facts.Malformed || facts.ResourceType is null || facts.Id is null)
            {
                continue;
            }

            var own = ItemFacts.Read(json, facts.ResourceType, facts.Id);
            var fromScan = ItemFacts.FromOutline(json, facts.ResourceType, facts.Id, facts.TopLevel);
            Assert.Equal(own is null, fromScan is null);
            if (own is not null)
            {
                Assert.Equal(own with { Parts = default }, fromScan! with { Parts = default });
                Assert.Equal(own.Parts.ToArray(), fromScan.Parts.ToArray());
                compared++;
            }
        }

        Assert.True(compared > 150, $"only {compared} compared");
        var escaped = ItemFacts.FromOutline(Encoding.UTF8.GetBytes(odd[0]), "Observation", "o1", scanner.Scan(Encoding.UTF8.GetBytes(odd[0]), RestrictedLabels.Default).TopLevel);
        Assert.Equal(new SameItemKey("observation", "http://snomed.info/sct", "1", "2025-01-02"), escaped!.SameItemKey);
        var outer = ItemFacts.FromOutline(Encoding.UTF8.GetBytes(odd[1]), "Observation", "o2", scanner.Scan(Encoding.UTF8.GetBytes(odd[1]), RestrictedLabels.Default).TopLevel);
        Assert.Equal(new SameItemKey("observation", "s", "outer", "2025-01-02"), outer!.SameItemKey);
        var encounter = ItemFacts.FromOutline(Encoding.UTF8.GetBytes(odd[2]), "Encounter", "e", scanner.Scan(Encoding.UTF8.GetBytes(odd[2]), RestrictedLabels.Default).TopLevel);
        Assert.Equal(("RBL", "2025-02-03T10:00:00Z"), (encounter!.ProviderOdsCode, encounter.PeriodStart));
        Assert.Null(ItemFacts.FromOutline(Encoding.UTF8.GetBytes(odd[3]), "Condition", "c", scanner.Scan(Encoding.UTF8.GetBytes(odd[3]), RestrictedLabels.Default).TopLevel));
    }

    private static byte[] Allergy(string id, string system, string code) =>
        Encoding.UTF8.GetBytes($$$"""{"resourceType":"AllergyIntolerance","id":"{{{id}}}","meta":{"tag":[{"code":"t"}]},"code":{"coding":[{"system":"{{{system}}}","code":"{{{code}}}"}]},"patient":{"reference":"Patient/1"}}""");
}
