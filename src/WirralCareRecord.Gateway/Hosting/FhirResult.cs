using System.Text.Json;
using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.Hosting;

/// <summary>An endpoint result that writes a FHIR resource with the SDK's serializer.</summary>
public sealed class FhirResult(Resource resource, int statusCode = StatusCodes.Status200OK) : IResult, IStatusCodeHttpResult
{
    public Resource Resource { get; } = resource;

    public int? StatusCode { get; } = statusCode;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = StatusCode ?? StatusCodes.Status200OK;
        httpContext.Response.ContentType = FhirJson.ContentType;
        // Straight to the body through the serializer's pooled buffer: a combined record is hundreds of KB, and an array
        // of that size per answer lands on the large object heap. The SDK's converter writes the whole resource before
        // the first flush, so a failure still happens before any byte is sent.
        await JsonSerializer.SerializeAsync(httpContext.Response.Body, Resource, FhirJson.Strict, httpContext.RequestAborted);
    }
}
