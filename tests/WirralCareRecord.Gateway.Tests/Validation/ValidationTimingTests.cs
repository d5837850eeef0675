using System.Diagnostics;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Tests.Common;
using Xunit.Abstractions;

namespace WirralCareRecord.Gateway.Tests.Validation;

/// <summary>Runs on its own, after the parallel tests, so the times it prints are not theirs.</summary>
[CollectionDefinition(nameof(ValidationTimingTests), DisableParallelization = true)]
public sealed class ValidationTimingRunsAlone;

[Collection(nameof(ValidationTimingTests))]
public class ValidationTimingTests(ITestOutputHelper output)
{
    /// <summary>
    /// Validation is asked for again and again with the same compiled profiles (the sampler, the onboarding flow test):
    /// each answer must be the first one's. What each costs is printed here and measured in the benchmark
    /// (<c>validation_patient_us</c>, <c>validation_condition_us</c>); a timed assertion here once failed on a busy
    /// machine at 30.5 ms against a limit of 30 for what the trial measured at 6 to 7 ms, which says nothing about the code.
    /// </summary>
    [Fact]
    public void Validate_TypicalResourcesRepeatedly_GivesTheFirstOutcomeEveryTime()
    {
        // Arrange: a source's Patient and Condition (typical), and the richest UK Core Patient example (15 extensions, contacts).
        var (example, _) = Definitions.Read(Definitions.Fixture("ukcore-examples", "UKCore-Patient-RichardSmith-Example.xml"));
        var cases = new (string Name, Resource Resource, string? Profile)[]
        {
            ("WCR-Patient", FhirSource.NewPatient("p1", "9000000009"), null),
            ("WCR-Condition", ClinicalData.Condition("c1", "p1"), null),
            ("UKCore-Patient (RichardSmith example)", example!, Definitions.UkCore + "UKCore-Patient"),
        };

        foreach (var (name, resource, profile) in cases)
        {
            // Act
            var first = Summary(Definitions.Engine.Validate(resource, profile));
            var best = double.MaxValue;
            for (var batch = 0; batch < 8; batch++)
            {
                var clock = Stopwatch.StartNew();
                for (var i = 0; i < 25; i++)
                {
                    // Assert: the same verdict and the same issues, every time.
                    Assert.Equal(first, Summary(Definitions.Engine.Validate(resource, profile)));
                }

                best = Math.Min(best, clock.Elapsed.TotalMilliseconds / 25);
            }

            output.WriteLine($"{name}: {best * 1000:0} µs per validation (best batch; for information, the benchmark measures it)");
            Assert.StartsWith("True", first, StringComparison.Ordinal);
        }
    }

    private static string Summary(OperationOutcome outcome) =>
        $"{outcome.Success}|{string.Join(";", outcome.Issue.Select(i => $"{i.Severity}:{i.Code}:{i.Details?.Text ?? i.Diagnostics}:{string.Join(",", i.Expression)}"))}";
}
