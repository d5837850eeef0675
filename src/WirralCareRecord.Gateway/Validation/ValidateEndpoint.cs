using System.Diagnostics;
using System.Text;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Utility;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>
/// FHIR <c>$validate</c> (http://hl7.org/fhir/R4/resource-operation-validate.html): <c>POST /fhir/$validate</c> and
/// <c>POST /fhir/{type}/$validate</c>, with the resource as the body or in a Parameters <c>resource</c> parameter,
/// and an optional <c>profile</c> (parameter or query). Answers 200 with the OperationOutcome whenever validation
/// ran, whatever it found; 400 when there is nothing to validate. For onboarding staff testing a source's data.
/// </summary>
internal static class ValidateEndpoint
{
    public const string SystemPath = "/fhir/$validate";
    public const string TypePath = "/fhir/{type}/$validate";
    private const int MaxBodyBytes = 8 * 1024 * 1024;

    // Recoverable: what the SDK can read is validated, and what it cannot is reported with the rest rather than
    // failing the whole request.
    private static readonly FhirJsonDeserializer Reader = new(new DeserializerSettings().UsingMode(DeserializationMode.Recoverable));

    public static IEndpointRouteBuilder MapValidateEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(SystemPath, (HttpContext context, IFhirValidator validator, ILogger<IFhirValidator> logger) => HandleAsync(context, null, validator, logger))
            .RequireAuthorization(Policies.Operations);
        endpoints.MapPost(TypePath, (HttpContext context, string type, IFhirValidator validator, ILogger<IFhirValidator> logger) => HandleAsync(context, type, validator, logger))
            .RequireAuthorization(Policies.Operations);
        return endpoints;
    }

    private static async Task<IResult> HandleAsync(HttpContext context, string? type, IFhirValidator validator, ILogger logger)
    {
        var correlationId = context.CorrelationId();
        if (type is not null && !ModelInfo.IsKnownResource(type))
        {
            throw new InvalidRequestException($"'{type}' is not a FHIR R4 resource type.", OperationOutcome.IssueType.NotSupported);
        }

        var (resource, readIssues) = await ReadAsync(context);
        var profile = context.Request.Query["profile"].FirstOrDefault();
        if (resource is Parameters parameters && type != "Parameters")
        {
            resource = parameters.Parameter.FirstOrDefault(p => p.Name == "resource")?.Resource
                ?? throw new InvalidRequestException("The Parameters body has no 'resource' parameter to validate.");
            profile ??= parameters.Parameter.FirstOrDefault(p => p.Name == "profile")?.Value?.ToString();
        }

        if (type is not null && resource.TypeName != type)
        {
            throw new InvalidRequestException($"The body is a {resource.TypeName}, but the request is for {type}/$validate.");
        }

        if (profile is not null && !validator.HasProfile(profile))
        {
            throw new InvalidRequestException($"The profile '{profile}' is not known to the gateway. See /fhir/metadata for the profiles it supports.", OperationOutcome.IssueType.NotSupported);
        }

        var started = Stopwatch.GetTimestamp();
        var outcome = validator.Validate(resource, profile);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (readIssues.Count > 0)
        {
            // What the reader could not take in comes first: it explains anything missing from the validation.
            outcome.Issue.RemoveAll(i => i.Severity == OperationOutcome.IssueSeverity.Information && i.Diagnostics == FirelyValidation.AllOk);
            outcome.Issue.InsertRange(0, readIssues);
        }

        outcome.Id = correlationId;
        ValidationLog.Validated(logger, resource.TypeName, profile ?? "default", outcome.Errors + outcome.Fatals, outcome.Warnings, elapsed, correlationId);
        return new FhirResult(outcome);
    }

    private static async Task<(Resource Resource, List<OperationOutcome.IssueComponent> Issues)> ReadAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBodyBytes)
        {
            throw new InvalidRequestException($"The body is larger than {MaxBodyBytes / (1024 * 1024)} MB.", OperationOutcome.IssueType.TooLong);
        }

        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var json = await reader.ReadToEndAsync(context.RequestAborted);
        if (string.IsNullOrWhiteSpace(json))
        {
            throw new InvalidRequestException("The body is empty: send the FHIR resource to validate as JSON.");
        }

        Resource? resource;
        IEnumerable<CodedException> problems;
        try
        {
            Reader.TryDeserializeResource(json, out resource, out problems);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or ArgumentException or InvalidCastException or FormatException)
        {
            // Not JSON at all, or JSON the SDK's reader gives up on rather than reporting (two values for one element).
            throw new InvalidRequestException("The body is not a FHIR R4 resource in JSON: it could not be read.");
        }

        if (resource is null)
        {
            throw new InvalidRequestException("The body is not a FHIR R4 resource in JSON: " + string.Join(" ", problems.Select(p => p.Message).Take(3)));
        }

        return (resource, [.. problems.Select(ToIssue)]);
    }

    private static OperationOutcome.IssueComponent ToIssue(CodedException problem)
    {
        var issue = Outcomes.Issue(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure, problem is ExtendedCodedException extended ? extended.BaseErrorMessage : problem.Message);
        if (problem is ExtendedCodedException { InstancePath: { Length: > 0 } path })
        {
            issue.Expression = [path];
        }

        return issue;
    }
}
