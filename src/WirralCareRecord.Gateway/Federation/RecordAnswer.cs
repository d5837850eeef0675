using System.Buffers;
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
        var reader = new Utf8JsonReader(Sequence());
        return JsonSerializer.Deserialize<Bundle>(ref reader, FhirJson.Lenient)
            ?? throw new InvalidOperationException("The combined record did not read back as a Bundle.");
    }

    private ReadOnlySequence<byte> Sequence()
    {
        Segment? first = null, last = null;
        foreach (var chunk in bundle.Chunks())
        {
            last = last is null ? first = new Segment(chunk, 0) : last.Append(chunk);
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    public void Dispose() => bundle.Dispose();

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
