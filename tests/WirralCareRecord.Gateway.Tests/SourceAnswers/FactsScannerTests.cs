using System.Text;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.SourceAnswers;
using WirralCareRecord.Gateway.Tests.Validation;

namespace WirralCareRecord.Gateway.Tests.SourceAnswers;

/// <summary>
/// The scanner reuses one set of facts resource after resource, so nothing one resource said may survive into the next:
/// a label, a contained patient, an NHS number or a reference left over would decide another item wrongly.
/// </summary>
public sealed class FactsScannerTests
{
    private const string NhsSystem = Gateway.PatientMatching.NhsNumber.System;

    private static readonly byte[] Loaded = Encoding.UTF8.GetBytes($$$"""
        {"resourceType":"Observation","id":"loaded","meta":{"security":[{"system":"{{{RestrictedLabels.ConfidentialitySystem}}}","code":"R"}]},
         "contained":[{"resourceType":"Patient","id":"p1","identifier":[{"system":"{{{NhsSystem}}}","value":"943 476 5919"}],
                       "contained":[{"resourceType":"Organization","id":"o1"}]}],
         "identifier":[{"system":"{{{NhsSystem}}}","value":"9434765870"}],
         "subject":{"reference":"#p1"},"performer":[{"reference":"Practitioner/x"},{"identifier":{"system":"{{{NhsSystem}}}","value":"9434765919"}}]}
        """);

    private static readonly byte[] Plain = """{"resourceType":"Condition","id":"plain","subject":{"reference":"Patient/1"}}}"""u8.ToArray();

    [Fact]
    public void EachScan_HoldsOnlyWhatItsResourceSaid()
    {
        using var scanner = FactsScanner.Rent();

        var loaded = Describe(scanner.Scan(Loaded, RestrictedLabels.Default));
        var plain = Describe(scanner.Scan(Plain, RestrictedLabels.Default));

        Assert.Equal(Describe(ResourceFacts.Scan(Loaded, RestrictedLabels.Default)), loaded);
        Assert.Contains("restricted", loaded, StringComparison.Ordinal);
        Assert.Contains("contained Patient/p1", loaded, StringComparison.Ordinal);
        Assert.Equal("Condition/plain; nhs []; refs [Patient/1||| subject direct]; contained []", plain);
    }

    [Fact]
    public void AMalformedResource_AfterAFullOne_IsOnlyMalformed()
    {
        using var scanner = FactsScanner.Rent();
        scanner.Scan(Loaded, RestrictedLabels.Default);

        var broken = scanner.Scan(Loaded.AsSpan(0, Loaded.Length - 40), RestrictedLabels.Default);

        Assert.True(broken.Malformed);
        Assert.Null(broken.ResourceType);
        Assert.False(broken.AnyRestricted);
        Assert.Empty(broken.References);
        Assert.Empty(broken.Contained);
        Assert.Empty(broken.NhsNumbers);
    }

    [Fact]
    public void UkCoreExamples_ScannedInTurn_HaveTheFactsOfANewScan_AndTheSameDecisions()
    {
        // Arrange: every example, each scanned by one scanner after all the ones before it, as an answer's entries are.
        var examples = Definitions.UkCoreExamples().Select(FhirJson.SerializeToUtf8).ToList();
        var scope = new PatientScope("9434765919", new HashSet<string>(StringComparer.Ordinal) { "UKCore-Patient-RichardSmith-Example" }, new SourceLocation(new Uri("https://gp.example.org/fhir"), "https://gateway/sources/N85001"), _ => true, RestrictedLabels.Default);
        using var scanner = FactsScanner.Rent();

        // Act + Assert
        foreach (var example in examples)
        {
            var reused = scanner.Scan(example, RestrictedLabels.Default);
            var fresh = ResourceFacts.Scan(example, RestrictedLabels.Default);
            Assert.Equal(Describe(fresh), Describe(reused));
            Assert.Equal(DisclosurePolicy.Decide(fresh, scope), DisclosurePolicy.Decide(reused, scope));
        }

        Assert.True(examples.Count > 150, $"only {examples.Count} examples");
    }

    [Fact]
    public void ARepeatedValue_IsOneString_ForOneAnswerOnly()
    {
        // Arrange
        var first = FactsScanner.Rent();
        var a = first.Scan(Plain, RestrictedLabels.Default).References[0].Reference;
        var b = first.Scan(Plain, RestrictedLabels.Default).References[0].Reference;
        first.Dispose();

        // Act: the thread's scanner again, for another answer.
        using var second = FactsScanner.Rent();
        var c = second.Scan(Plain, RestrictedLabels.Default).References[0].Reference;

        // Assert: within the answer the subject is one string; the next answer does not find it left behind.
        Assert.Same(first, second);
        Assert.Same(a, b);
        Assert.NotSame(a, c);
        Assert.Equal(a, c);
    }

    [Fact]
    public void AHugeResource_DoesNotLeaveTheThreadHoldingListsSizedForIt()
    {
        // Arrange: one resource of 20,000 references and 5,000 contained resources.
        var references = string.Join(",", Enumerable.Range(0, 20_000).Select(i => $$$"""{"reference":"Practitioner/{{{i}}}"}"""));
        var contained = string.Join(",", Enumerable.Range(0, 5_000).Select(i => $$$"""{"resourceType":"Practitioner","id":"c{{{i}}}"}"""));
        var huge = Encoding.UTF8.GetBytes($$$"""{"resourceType":"CareTeam","id":"huge","contained":[{{{contained}}}],"participant":[{{{references}}}]}""");
        var scanner = FactsScanner.Rent();
        var facts = scanner.Scan(huge, RestrictedLabels.Default);
        Assert.Equal(20_000, facts.References.Count);
        Assert.Equal(5_000, facts.Contained.Count);
        scanner.Dispose();

        // Act
        using var again = FactsScanner.Rent();
        var plain = again.Scan(Plain, RestrictedLabels.Default);

        // Assert
        Assert.Same(scanner, again);
        Assert.Equal("Condition/plain; nhs []; refs [Patient/1||| subject direct]; contained []", Describe(plain));
        Assert.InRange(plain.References.Capacity, 1, 64);
        Assert.InRange(plain.Contained.Capacity, 0, 64);
    }

    /// <summary>Everything the rules read from facts, contained resources included, as one comparable text.</summary>
    internal static string Describe(ResourceFacts facts) =>
        $"{facts.ResourceType}/{facts.Id}{(facts.Malformed ? " malformed" : "")}{(facts.HasRestrictedLabel ? " restricted" : "")}; "
        + $"nhs [{string.Join(",", facts.NhsNumbers)}]; "
        + $"refs [{string.Join(",", facts.References.Select(r => $"{r.Reference}|{r.Type}|{r.IdentifierSystem}|{r.IdentifierValue} {r.RootElement}{(r.Direct ? " direct" : "")}"))}]; "
        + $"contained [{string.Join(",", facts.Contained.Select(c => "contained " + Describe(c)))}]";
}
