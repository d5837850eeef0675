using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using WirralCareRecord.Gateway.SourceAnswers;

namespace WirralCareRecord.Gateway.Tests.SourceAnswers;

/// <summary>
/// A kept resource as the combined record writes it: every property the source sent, meta.source set, the same-item tag
/// added, addresses on the source's host rewritten; elements next to each other in the source go out as one copy.
/// </summary>
public sealed class MetaStampTests
{
    private static readonly SourceLocation Location = new(new Uri("https://gp.example.nhs.uk/fhir"), "https://gateway.example/sources/N85001/fhir");

    [Theory]
    // meta between elements, whitespace and line breaks around the commas, resourceType last
    [InlineData("""
        { "id" : "c1",
          "meta" : { "versionId" : "2", "tag" : [ { "system" : "urn:s", "code" : "t" } ] } ,
          "clinicalStatus" : { "text" : "active" } ,
          "subject" : { "reference" : "Patient/p1" },
          "note" : [ { "text" : "a { brace, a ] bracket, and a comma" } ],
          "resourceType" : "Condition" }
        """, false)]
    // an address on the source's host, so every value is read and rewritten
    [InlineData("""
        {"resourceType":"Condition","id":"c1","subject":{"reference":"https://gp.example.nhs.uk/fhir/Patient/p1"},"meta":{"versionId":"2"},"note":[{"text":"x"}],"recorder":{"reference":"Practitioner/d1"}}
        """, true)]
    // an escape sequence, which could spell the host, so every value is read too
    [InlineData("""
        {"resourceType":"Condition","id":"c1","note":[{"text":"caf\u00e9"}],"subject":{"reference":"Patient/p1"}}
        """, true)]
    public void Write_AnyLayout_EveryPropertyOnceWithMetaStamped(string json, bool rewritten)
    {
        // Arrange
        var bytes = Encoding.UTF8.GetBytes(json);
        var facts = ItemFacts.Read(bytes, "Condition", "c1")!;
        var output = new ArrayBufferWriter<byte>();
        var rewriter = new AddressRewriter(Location);

        // Act
        MetaStamp.Write(bytes, facts.Parts.Span, rewriter, "https://gateway.example/sources/N85001/fhir", ("urn:same", "k", "Same item"), output);

        // Assert: the source's properties, values unchanged but for the rewritten address; meta with source and both tags.
        Assert.Equal(!rewritten, rewriter.LeavesUnchanged(bytes));
        var written = JsonNode.Parse(output.WrittenSpan)!.AsObject();
        var sent = JsonNode.Parse(bytes)!.AsObject();
        Assert.Equal(sent.Select(p => p.Key).Append("meta").Distinct().Order(), written.Select(p => p.Key).Order());
        foreach (var (name, value) in sent.Where(p => p.Key != "meta"))
        {
            var expected = value!.ToJsonString().Replace("https://gp.example.nhs.uk/fhir/", "https://gateway.example/sources/N85001/fhir/", StringComparison.Ordinal);
            Assert.Equal(expected, written[name]!.ToJsonString());
        }

        var meta = written["meta"]!.AsObject();
        Assert.Equal("https://gateway.example/sources/N85001/fhir", meta["source"]!.GetValue<string>());
        Assert.Equal("urn:same", meta["tag"]!.AsArray()[^1]!["system"]!.GetValue<string>());
        Assert.Equal(sent["meta"]?["tag"]?.AsArray().Count + 1 ?? 1, meta["tag"]!.AsArray().Count);
        Assert.Equal(sent["meta"]?["versionId"]?.GetValue<string>(), meta["versionId"]?.GetValue<string>());
    }
}
