using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.SourceAnswers;
using WirralCareRecord.Gateway.Tests.Validation;

namespace WirralCareRecord.Gateway.Tests.SourceAnswers;

/// <summary>
/// An answer's outline reads each entry's facts in the same pass that finds the entry, over the answer's pooled blocks.
/// The rules then decide on those facts, so they must be exactly what a scan of the resource's own bytes gives: the same
/// references, labels, NHS numbers, contained resources and top-level positions, however the bytes are split.
/// </summary>
public sealed class AnswerFactsTests
{
    private const string NhsSystem = Gateway.PatientMatching.NhsNumber.System;

    public static TheoryData<int> SegmentSizes => [1, 7, 64, 65_536];

    [Theory]
    [MemberData(nameof(SegmentSizes))]
    public void UkCoreExamples_InOneAnswer_HaveTheFactsOfTheirOwnBytes(int segmentSize)
    {
        // Arrange: every example as an entry, pretty-printed so positions are not those of compact JSON.
        var bundle = new Bundle { Type = Bundle.BundleType.Searchset };
        foreach (var example in Definitions.UkCoreExamples())
        {
            bundle.Entry.Add(new Bundle.EntryComponent { FullUrl = $"https://gp.example.org/fhir/{example.TypeName}/{example.Id}", Resource = example, Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Match } });
        }

        var answer = Encoding.UTF8.GetBytes(JsonNode.Parse(FhirJson.SerializeToUtf8(bundle))!.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

        // Act + Assert
        var checkedEntries = AssertFactsAsOwnBytes(answer, segmentSize);
        Assert.True(checkedEntries > 150, $"only {checkedEntries} entries");
    }

    [Theory]
    [MemberData(nameof(SegmentSizes))]
    public void HostileEntries_HaveTheFactsOfTheirOwnBytes(int segmentSize)
    {
        // Arrange: escaped names (of the entry's resource, of the id, of a reference), a contained patient with an NHS number,
        // a restricted label, the resource after its search, two resources in one entry, none in another, an array where a
        // resource should be, a nested Bundle, and text that is not ASCII.
        var answer = Encoding.UTF8.GetBytes($$$$"""
            {"resourceType":"Bundle","type":"searchset","entry":[
              {"search":{"mode":"match"},"re\u0073ource":{"resourceType":"Observation","\u0069d":"o1","meta":{"security":[{"system":"{{{{RestrictedLabels.ConfidentialitySystem}}}}","code":"R"}]},
                "contained":[{"resourceType":"Patient","id":"p1","identifier":[{"system":"{{{{NhsSystem}}}}","value":"943 476 5919"}]}],
                "subject":{"refer\u0065nce":"#p1"},"performer":[{"reference":"Practitioner/\u00e9l\u00e8ve"},{"identifier":{"system":"{{{{NhsSystem}}}}","value":"9434765870"}}],
                "note":[{"text":"caf\u00e9 ☕ \"quoted\" {not an object}"}]}},
              {"resource":{"resourceType":"Condition","id":"first","subject":{"reference":"Patient/1"}},"resource":{"resourceType":"Condition","id":"second","subject":{"reference":"Patient/2"}}},
              {"response":{"status":"404 Not Found"}},
              {"resource":[{"resourceType":"Condition","id":"in-an-array"}]},
              {"resource":{"resourceType":"Bundle","id":"nested","type":"searchset","entry":[{"resource":{"resourceType":"Condition","id":"deep","subject":{"reference":"Patient/3"}}}]}},
              {"resource":{"id":"type-last","identifier":{"system":"{{{{NhsSystem}}}}","value":"9434765919"},"resourceType":"Patient"}},
              {"resource":{"resourceType":"Encounter","id":"wrong-shapes","meta":{"security":"R"},"contained":{"resourceType":"Patient"},"subject":{"reference":7}}}
            ]}
            """);

        // Act + Assert
        Assert.Equal(5, AssertFactsAsOwnBytes(answer, segmentSize));
    }

    [Fact]
    public void OtherLabels_GetNoHeldFacts_AndAnOutlineWithoutLabelsHoldsNone()
    {
        // Arrange
        var answer = Encoding.UTF8.GetBytes("""{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Condition","id":"c","subject":{"reference":"Patient/1"}}}]}""");
        var labels = new RestrictedLabels([]);
        var withFacts = AnswerIndex.Read(new ReadOnlySequence<byte>(answer), labels);
        var without = AnswerIndex.Read(new ReadOnlySequence<byte>(answer));

        try
        {
            // Act + Assert: facts read with one set of labels are never used to decide under another.
            Assert.NotNull(withFacts.FactsOf(withFacts.Entries[0], labels));
            Assert.Null(withFacts.FactsOf(withFacts.Entries[0], RestrictedLabels.Default));
            Assert.Null(without.FactsOf(without.Entries[0], labels));
        }
        finally
        {
            withFacts.Release();
            without.Release();
        }
    }

    [Theory]
    [InlineData("""{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Condition","id":"c","subject":{"reference":"Patient/1"}}},{"resource":{"resourceType":"Condition","id":"d","subject":{"reference":""")]
    [InlineData("""{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Condition","id":"c","subject":{"reference":"Patient/1"}}},{"resource":{"resourceType":"Condition","id":"d" "subject":{}}}]}""")]
    public void AnAnswerThatIsNotJson_HasNoEntriesAndNoFacts(string sent)
    {
        var index = AnswerIndex.Read(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(sent)), RestrictedLabels.Default);

        Assert.True(index.Malformed);
        Assert.Empty(index.Entries);
        index.Release();
    }

    [Fact]
    public void AnEscapedReferenceThatIsNotUtf8_MakesTheAnswerUnreadable()
    {
        // Arrange: a lone continuation byte inside a reference that has an escape, so it must be decoded to be read.
        var answer = Encoding.UTF8.GetBytes("""{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Condition","id":"c","subject":{"reference":"Patient/\u0041X"}}}]}""");
        answer[Array.IndexOf(answer, (byte)'X')] = 0x80;

        // Act
        var index = AnswerIndex.Read(new ReadOnlySequence<byte>(answer), RestrictedLabels.Default);

        // Assert
        Assert.True(index.Malformed);
        Assert.Empty(index.Entries);
        index.Release();
    }

    /// <summary>Outlines the answer split into segments of <paramref name="segmentSize"/>; returns how many entries had facts compared.</summary>
    private static int AssertFactsAsOwnBytes(byte[] answer, int segmentSize)
    {
        var sequence = BufferSequence.Of(answer.Chunk(segmentSize).Select(c => (ReadOnlyMemory<byte>)c));
        var index = AnswerIndex.Read(sequence, RestrictedLabels.Default);
        var bare = AnswerIndex.Read(new ReadOnlySequence<byte>(answer));
        try
        {
            Assert.False(index.Malformed);
            Assert.Equal(bare.Entries.Select(e => e with { Facts = -1 }), index.Entries.Select(e => e with { Facts = -1 }));
            var page = new AnswerPage(sequence, index);
            var compared = 0;
            using var scanner = FactsScanner.Rent();
            foreach (var entry in index.Entries.Where(e => e.Start >= 0))
            {
                var held = index.FactsOf(entry, RestrictedLabels.Default) ?? throw new Xunit.Sdk.XunitException($"no facts held for the entry at {entry.Start}");
                using var bytes = page.Slice(entry);
                var own = ResourceFacts.Scan(bytes.Span, RestrictedLabels.Default);
                Assert.Equal(Describe(own), Describe(held));
                compared++;
            }

            return compared;
        }
        finally
        {
            index.Release();
            bare.Release();
        }
    }

    private static string Describe(ResourceFacts facts) =>
        FactsScannerTests.Describe(facts) + "; top [" + string.Join(",", facts.TopLevel.Select(p => $"{p.Name}@{p.NameStart}:{p.ValueStart}-{p.End}")) + "]";
}
