using Hl7.Fhir.Model;
using Hl7.Fhir.Specification.Source;
using WirralCareRecord.Gateway.Tests.Common;
using WirralCareRecord.Gateway.Validation;

namespace WirralCareRecord.Gateway.Tests.Validation;

/// <summary>
/// What the December 2026 trial of Firely.Fhir.Validation found, each handled and held here: copies from the
/// resolver cache, the <c>ref-1</c> patch, a validator pool, reference target types for unresolved literal
/// references (SNOMED CT and dm+d "not checked" are in <see cref="ValidationRuleTests"/>, the blood pressure profile
/// in <see cref="UkCoreExampleTests"/>, the background warm-up in <see cref="ValidationFeatureTests"/>).
/// </summary>
[Collection(nameof(ValidationTimingTests))] // cold set-ups compile every profile: not beside the timing test
public class FirelyFindingsTests
{
    [Fact]
    public async Task CopyingResolver_EachCaller_GetsItsOwnCopy()
    {
        // Arrange
        var resolver = new CopyingResolver(new DirectorySource(Definitions.Profiles, new DirectorySourceSettings { IncludeSubDirectories = true }));
        const string url = Definitions.Wirral + "WCR-Patient";

        // Act: the first caller changes what it was given, as the snapshot generator and schema compiler do.
        var first = Assert.IsType<StructureDefinition>(await resolver.CopyOfAsync(url));
        first.Differential.Element.Clear();
        first.Snapshot = new StructureDefinition.SnapshotComponent();
        var second = Assert.IsType<StructureDefinition>(await resolver.CopyOfAsync(url));

        // Assert
        Assert.NotSame(first, second);
        Assert.NotEmpty(second.Differential.Element);
        Assert.Null(second.Snapshot);
    }

    [Fact]
    public async Task KeepingTerminology_ValueSetsReadOnce_DefinitionsStillCopied_NothingSharedBetweenValidators()
    {
        // Arrange: what a validator resolves at every validation (its terminology) must not cost a parse each time,
        // and what its compiler changes (definitions) must still come fresh.
        var copies = new CopyingResolver(new DirectorySource(ValidationOptions.Conformance, new DirectorySourceSettings { IncludeSubDirectories = true }));
        var definitions = new CopyingResolver(new DirectorySource(Definitions.Profiles, new DirectorySourceSettings { IncludeSubDirectories = true }));
        var valueSetUrl = Directory.EnumerateFiles(ValidationOptions.Conformance, "ValueSet-*.json", SearchOption.AllDirectories)
            .Select(file => Assert.IsType<ValueSet>(Definitions.Read(file).Resource).Url!).First();
        var one = copies.KeepingTerminology();
        var other = copies.KeepingTerminology();
        var forDefinitions = definitions.KeepingTerminology();

        // Act
        var first = (await one.TryResolveByCanonicalUriAsync(valueSetUrl)).Value;
        var again = (await one.TryResolveByCanonicalUriAsync(valueSetUrl)).Value;
        var otherValidators = (await other.TryResolveByCanonicalUriAsync(valueSetUrl)).Value;
        var definition = (await forDefinitions.TryResolveByCanonicalUriAsync(Definitions.Wirral + "WCR-Patient")).Value;
        var definitionAgain = (await forDefinitions.TryResolveByCanonicalUriAsync(Definitions.Wirral + "WCR-Patient")).Value;

        // Assert
        Assert.IsType<ValueSet>(first);
        Assert.Same(first, again);
        Assert.NotSame(first, otherValidators);
        Assert.IsType<StructureDefinition>(definition);
        Assert.NotSame(definition, definitionAgain);
    }

    [Fact]
    public void UkCoreExamples_ValidatedInOppositeOrders_GiveTheSameResults()
    {
        // Arrange: two cold set-ups, so each compiles and snapshots in the order it meets the profiles. Before copies,
        // the order changed the answers (9 false ref-1 errors over these examples).
        var files = Directory.EnumerateFiles(Definitions.Fixture("ukcore-examples"), "*.xml").Order(StringComparer.Ordinal).ToList();
        var forward = FirelyValidation.Create(Definitions.Profiles, ValidationOptions.Conformance);
        var backward = FirelyValidation.Create(Definitions.Profiles, ValidationOptions.Conformance);

        // Act
        var forwardResults = files.ToDictionary(f => f, f => Summary(forward, f));
        var backwardResults = Enumerable.Reverse(files).ToDictionary(f => f, f => Summary(backward, f));

        // Assert
        var differing = files.Where(f => forwardResults[f] != backwardResults[f]).Select(Path.GetFileName).ToList();
        Assert.True(differing.Count == 0, "Order-dependent results: " + string.Join(", ", differing));
        Assert.DoesNotContain(forwardResults.Values, r => r.Contains("ref-1", StringComparison.Ordinal));
    }

    [Fact]
    public void Ref1Patch_ReferenceCopiesInAResourceSnapshot_Corrected()
    {
        // Arrange: R4's own Condition snapshot carries the faulty ref-1 on each Reference element.
        var condition = Assert.IsType<StructureDefinition>(Definitions.Engine.Resolve(Definitions.Core + "Condition"));
        var original = condition.DeepCopy() as StructureDefinition;
        foreach (var constraint in original!.Snapshot.Element.SelectMany(e => e.Constraint).Where(c => c.Key == "ref-1"))
        {
            constraint.Expression = "reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))";
        }

        // Act
        var changed = Ref1Patch.Apply(original);

        // Assert: every copy was rewritten, and the definitions the validator uses are already patched.
        Assert.True(changed > 1);
        Assert.All(original.Snapshot.Element.SelectMany(e => e.Constraint).Where(c => c.Key == "ref-1"), c => Assert.Equal(Ref1Patch.Corrected, c.Expression));
        Assert.All(condition.Snapshot.Element.SelectMany(e => e.Constraint).Where(c => c.Key == "ref-1"), c => Assert.Equal(Ref1Patch.Corrected, c.Expression));
    }

    [Theory]
    [InlineData("identifier")]
    [InlineData("display")]
    public void Ref1_ReferenceWithoutAReferenceValue_Conforms(string kind)
    {
        // Arrange: who recorded a condition, known only by identifier (or name), as sources often send it.
        var condition = ClinicalData.Condition("c1", "p1");
        condition.Recorder = kind == "identifier"
            ? new ResourceReference { Identifier = new Identifier("https://fhir.nhs.uk/Id/sds-user-id", "123456789012") }
            : new ResourceReference { Display = "Dr S Patel" };

        // Act
        var outcome = Definitions.Engine.Validate(condition);

        // Assert
        Assert.True(outcome.Success, outcome.Issue.Describe());
        Assert.DoesNotContain(outcome.Issue, i => i.Diagnostics?.Contains("ref-1", StringComparison.Ordinal) == true);
    }

    [Fact]
    public void ValidatorPool_EightThreadsOnAColdSetUp_EveryResultRight()
    {
        // Arrange: the trial's case (one cold Validator shared by 8 threads: 1,499 wrong results of 2,000).
        var validation = FirelyValidation.Create(Definitions.Profiles, ValidationOptions.Conformance);
        var valid = FhirSource.NewPatient("p1", "9000000009");
        var noBirthDate = FhirSource.NewPatient("p2", "9000000017");
        noBirthDate.BirthDate = null;
        var wrongSubject = ClinicalData.Condition("c1", "p1");
        wrongSubject.Subject = new ResourceReference("Practitioner/dr-patel");
        var cases = new (Resource Resource, bool Conforms)[] { (valid, true), (noBirthDate, false), (wrongSubject, false), (ClinicalData.Condition("c2", "p1"), true) };
        var wrong = 0;

        // Act
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, thread =>
        {
            for (var i = 0; i < 50; i++)
            {
                var (resource, conforms) = cases[(thread + i) % cases.Length];
                if (validation.Validate(resource).Success != conforms)
                {
                    Interlocked.Increment(ref wrong);
                }
            }
        });

        // Assert
        Assert.Equal(0, wrong);
        Assert.InRange(validation.ValidatorCount, 2, 8);
    }

    [Theory]
    [InlineData("Practitioner/dr-patel", false)]
    [InlineData("https://gp.example.nhs.uk/fhir/Practitioner/dr-patel", false)]
    [InlineData("https://gp.example.nhs.uk/fhir/Practitioner/dr-patel/_history/2", false)]
    [InlineData("Patient/p1", true)]
    [InlineData("urn:uuid:3b1a5c2e-7f7e-4a61-9d7e-2f0c1c0a9b11", true)]
    public void Reference_UnresolvedLiteral_TargetTypeChecked(string reference, bool conforms)
    {
        // Arrange
        var condition = ClinicalData.Condition("c1", "p1");
        condition.Subject = new ResourceReference(reference);
        condition.Encounter = new ResourceReference("Encounter/e1"); // a stand-in whose own content (empty) must not be reported

        // Act
        var outcome = Definitions.Engine.Validate(condition);

        // Assert
        Assert.Equal(conforms, outcome.Success);
        if (!conforms)
        {
            var error = Assert.Single(outcome.Errors());
            Assert.Equal("Condition.subject[0]", error.Expression.Single());
            Assert.Contains("is of type 'Practitioner', which is not one of the allowed target types ('Patient')", error.Diagnostics, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(outcome.Issue, i => i.Expression.Any(e => e == "Encounter" || e == "Practitioner" || e == "Patient"));
    }

    private static string Summary(FirelyValidation validation, string file)
    {
        var name = Path.GetFileName(file);
        var (resource, _) = Definitions.Read(file);
        return resource is null
            ? "unreadable"
            : string.Join("|", validation.Validate(resource, UkCoreExamples.ProfileFor(name, resource.TypeName)).Issue
                .Select(i => $"{i.Severity}@{string.Join(",", i.Expression)}:{i.Diagnostics}").Order(StringComparer.Ordinal));
    }
}
