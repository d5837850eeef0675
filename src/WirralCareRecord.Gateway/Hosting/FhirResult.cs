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
        await httpContext.Response.Body.WriteAsync(FhirJson.SerializeToUtf8(Resource), httpContext.RequestAborted);
    }
}
