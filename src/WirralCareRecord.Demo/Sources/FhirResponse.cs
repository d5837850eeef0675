using System.Text.Json;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;
using Hl7.Fhir.Serialization;

namespace WirralCareRecord.Demo.Sources;

/// <summary>Writes a FHIR resource as a source system would: FHIR JSON through the SDK's serializer.</summary>
internal sealed class FhirResponse(Resource resource, int statusCode = StatusCodes.Status200OK) : IResult, IStatusCodeHttpResult
{
    public const string ContentType = "application/fhir+json; charset=utf-8";

    // Firely's converters are costly to build; build them once.
    private static readonly JsonSerializerOptions Compact = new JsonSerializerOptions().ForFhir(ModelInfo.ModelInspector);
    private static readonly JsonSerializerOptions Indented = new JsonSerializerOptions { WriteIndented = true }.ForFhir(ModelInfo.ModelInspector);

    public int? StatusCode => statusCode;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var pretty = string.Equals(httpContext.Request.Query["_pretty"], "true", StringComparison.OrdinalIgnoreCase);
        httpContext.Response.StatusCode = statusCode;
        httpContext.Response.ContentType = ContentType;
        return JsonSerializer.SerializeAsync(httpContext.Response.Body, resource, pretty ? Indented : Compact, httpContext.RequestAborted);
    }

    public static FhirResponse Outcome(int statusCode, OperationOutcome.IssueType type, string diagnostics) => new(
        new OperationOutcome
        {
            Issue = [new OperationOutcome.IssueComponent { Severity = OperationOutcome.IssueSeverity.Error, Code = type, Diagnostics = diagnostics }],
        },
        statusCode);
}
