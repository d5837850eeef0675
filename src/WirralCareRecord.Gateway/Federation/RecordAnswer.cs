using System.Text.Json;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.SourceAnswers;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>
/// The combined record, already written as FHIR JSON into pooled buffers (<see cref="RecordBundleBuilder.Write"/>):
/// sent with its length known, then the buffers go back to the pool. The record page reads it as a Bundle instead.
/// </summary>
internal sealed class RecordAnswer(PooledBufferWriter bundle) : IResult, IStatusCodeHttpResult, IDisposable
{
    public int? StatusCode => StatusCodes.Status200OK;

    public long Length => bundle.Length;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        try
        {
            httpContext.Response.StatusCode = StatusCodes.Status200OK;
            httpContext.Response.ContentType = FhirJson.ContentType;
            httpContext.Response.ContentLength = bundle.Length;
            await bundle.CopyToAsync(httpContext.Response.Body, httpContext.RequestAborted);
        }
        finally
        {
            Dispose();
        }
    }

    /// <summary>The record as SDK objects, for the gateway's own page, which lays it out for a clinician.</summary>
    public Bundle ReadBundle()
    {
        var reader = new Utf8JsonReader(BufferSequence.Of(bundle.Chunks()));
        return JsonSerializer.Deserialize<Bundle>(ref reader, FhirJson.Lenient)
            ?? throw new InvalidOperationException("The combined record did not read back as a Bundle.");
    }

    public void Dispose() => bundle.Dispose();
}
