using System.Text.Json;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Conformance;

/// <summary>
/// Serves the gateway's conformance resources from <c>conformance/</c> as committed: the CapabilityStatement at
/// <c>/fhir/metadata</c> and the OperationDefinitions it names. Loaded and checked once at start-up, so a broken
/// file stops the gateway rather than a caller.
/// </summary>
public static class ConformanceFeature
{
    public const string CapabilityStatementFile = "CapabilityStatement-wcr-gateway.json";

    public static IHostApplicationBuilder AddConformance(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(_ => ConformanceResources.Load(Path.Combine(AppContext.BaseDirectory, "conformance")));
        return builder;
    }

    public static IEndpointRouteBuilder MapConformance(this IEndpointRouteBuilder endpoints)
    {
        // The CapabilityStatement is public, as FHIR expects: clients read it before they sign in.
        endpoints.MapGet("/fhir/metadata", (ConformanceResources resources) => new FhirResult(resources.CapabilityStatement)).AllowAnonymous();
        endpoints.MapGet("/fhir/OperationDefinition/{id}", (string id, ConformanceResources resources, HttpContext context) =>
            resources.OperationDefinitions.TryGetValue(id, out var definition)
                ? new FhirResult(definition)
                : new FhirResult(Outcomes.Create(OperationOutcome.IssueType.NotFound, $"There is no OperationDefinition '{id}'.", context.CorrelationId()), StatusCodes.Status404NotFound))
            .AllowAnonymous();
        return endpoints;
    }
}

/// <summary>The parsed conformance resources.</summary>
public sealed class ConformanceResources(CapabilityStatement capabilityStatement, IReadOnlyDictionary<string, OperationDefinition> operationDefinitions)
{
    public CapabilityStatement CapabilityStatement { get; } = capabilityStatement;

    public IReadOnlyDictionary<string, OperationDefinition> OperationDefinitions { get; } = operationDefinitions;

    public static ConformanceResources Load(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"The conformance folder '{folder}' is missing; it is copied from the repository's conformance/ at build.");
        }

        var resources = Directory.EnumerateFiles(folder, "*.json")
            .Select(file => JsonSerializer.Deserialize<Resource>(File.ReadAllText(file), FhirJson.Strict)
                ?? throw new InvalidDataException($"{file} is empty."))
            .ToList();
        var capability = resources.OfType<CapabilityStatement>().SingleOrDefault()
            ?? throw new InvalidDataException($"The conformance folder '{folder}' must hold exactly one CapabilityStatement.");
        return new ConformanceResources(capability, resources.OfType<OperationDefinition>().Where(o => o.Id is not null).ToDictionary(o => o.Id!, StringComparer.Ordinal));
    }
}
