using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using WirralCareRecord.Gateway.Validation;

namespace WirralCareRecord.Gateway.Tests.Validation;

/// <summary>
/// The validation set-up the gateway hosts in this test run use (the same folders, so the same process-wide
/// Firely set-up): profiles and conformance copied beside the tests, base R4 from Hl7.Fhir.Specification.Data.R4.
/// </summary>
internal static class Definitions
{
    public const string UkCore = "https://fhir.hl7.org.uk/StructureDefinition/";
    public const string Wirral = "https://fhir.wirralcarerecord.nhs.uk/StructureDefinition/";
    public const string Core = FirelyValidation.CoreBase;

    public static string Profiles { get; } = ValidationOptions.DefaultFolder("profiles");

    public static FirelyValidation Engine => FirelyValidation.For(Profiles, ValidationOptions.Conformance);

    public static string Fixture(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    /// <summary>Every UK Core example the SDK can read, in file-name order.</summary>
    public static List<Resource> UkCoreExamples() =>
        [.. Directory.EnumerateFiles(Fixture("ukcore-examples"), "*.xml")
            .Order(StringComparer.Ordinal)
            .Select(file => Read(file).Resource)
            .OfType<Resource>()];

    /// <summary>Reads an example as a source's data would be read: what the SDK can take in, with what it could not.</summary>
    public static (Resource? Resource, IReadOnlyList<string> Problems) Read(string file)
    {
        var text = File.ReadAllText(file);
        var settings = new DeserializerSettings().UsingMode(DeserializationMode.Recoverable);
        try
        {
            Resource? resource;
            IEnumerable<Hl7.Fhir.Utility.CodedException> problems;
            _ = file.EndsWith(".xml", StringComparison.Ordinal)
                ? new FhirXmlDeserializer(settings).TryDeserializeResource(text, out resource, out problems)
                : new FhirJsonDeserializer(settings).TryDeserializeResource(text, out resource, out problems);
            return (resource, [.. problems.Select(p => p.Message)]);
        }
        catch (ArgumentException ex)
        {
            // The SDK's XML reader throws, rather than reports, on some malformed content (two value[x] in one element).
            return (null, [ex.Message]);
        }
    }

    public static IReadOnlyList<OperationOutcome.IssueComponent> Errors(this OperationOutcome outcome) =>
        [.. outcome.Issue.Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal)];

    public static string Describe(this IEnumerable<OperationOutcome.IssueComponent> issues) =>
        string.Join(Environment.NewLine, issues.Select(i => $"{i.Severity} {i.Code} @{string.Join(",", i.Expression)}: {i.Details?.Text ?? i.Diagnostics}"));
}
