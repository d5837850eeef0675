using System.Net.Http.Headers;
using System.Text.Json;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>
/// Fetches one patient's record from one source: the Patient by NHS number, then every permitted record type
/// in parallel, following <c>next</c> links. Anything the gateway cannot use is a <see cref="SourceFailureException"/>.
/// </summary>
internal sealed partial class FhirSourceClient(IHttpClientFactory httpClientFactory, IOptions<FederationOptions> options, TimeProvider time, ILogger<FhirSourceClient> logger)
{

    public async Task<SourceResult> FetchRecordAsync(SourceGrant grant, string nhsNumber, string correlationId, CallCounter calls, CancellationToken cancellationToken)
    {
        var source = grant.Source;
        var baseUrl = source.FhirBaseUrl.ToString().TrimEnd('/');
        var client = httpClientFactory.CreateSourceClient(grant.Source.OdsCode);

        var search = await GetAsync<Bundle>(client, $"{baseUrl}/Patient?identifier={Uri.EscapeDataString(NhsNumber.System + "|" + nhsNumber)}", correlationId, calls, cancellationToken);
        var match = PatientMatcher.Match(search.Entry.Select(e => e.Resource).OfType<Patient>(), nhsNumber);
        if (match.Outcome != MatchOutcome.Match)
        {
            var outcome = match.Outcome == MatchOutcome.Conflict ? SourceOutcome.Conflict : SourceOutcome.NoMatch;
            return new SourceResult(grant, outcome, null, [], time.GetUtcNow(), match.Reason, 0, calls.Count);
        }

        var patient = match.Patient!;
        if (patient.Link.FirstOrDefault(l => l.Type == Patient.LinkType.ReplacedBy) is { } merged)
        {
            // The source merged this record into another: follow the link once, never a chain, and never off the source.
            var successorId = RecordSafety.PatientIdOf(merged.Other?.Reference, baseUrl)
                ?? throw new SourceFailureException(SourceOutcome.Unreadable, "marks the patient as merged but does not say into which of its own records");
            patient = await GetAsync<Patient>(client, $"{baseUrl}/Patient/{Uri.EscapeDataString(successorId)}", correlationId, calls, cancellationToken);
            if (patient.Link.Any(l => l.Type == Patient.LinkType.ReplacedBy) || string.IsNullOrEmpty(patient.Id))
            {
                return new SourceResult(grant, SourceOutcome.Conflict, null, [], time.GetUtcNow(), "holds a merged record that points to another merged record, so none of its data has been included", 0, calls.Count);
            }
        }

        var patientId = patient.Id!;
        var types = options.Value.RecordTypes.Where(grant.Permits).ToList();

        // One failed type fails the source, so stop its other searches at once rather than let them run to the timeout.
        using var siblings = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pages = await Task.WhenAll(types.Select(async type =>
        {
            try
            {
                return await GetAllPagesAsync(client, $"{baseUrl}/{type}?patient={Uri.EscapeDataString(patientId)}&_count={options.Value.PageSize}", baseUrl, correlationId, calls, siblings.Token);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await siblings.CancelAsync();
                throw;
            }
        }));

        var kept = new List<Resource>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var withheld = 0;
        foreach (var resource in pages.SelectMany(p => p))
        {
            if (resource is OperationOutcome || !seen.Add(resource.TypeName + "/" + resource.Id))
            {
                continue;
            }

            if (string.IsNullOrEmpty(resource.Id) || !grant.Permits(resource.TypeName) || RecordSafety.IsRestricted(resource))
            {
                withheld++;
                continue;
            }

            if (!RecordSafety.IsAbout(resource, patientId, source.FhirBaseUrl))
            {
                // A source returning another person's data is a safety incident at that source: log it, without identifiers.
                Log.WrongPatientItem(logger, source.OdsCode, resource.TypeName, correlationId);
                withheld++;
                continue;
            }

            kept.Add(resource);
        }

        return new SourceResult(grant, SourceOutcome.Returned, patient, kept, time.GetUtcNow(), null, withheld, calls.Count);
    }

    private async Task<List<Resource>> GetAllPagesAsync(HttpClient client, string firstPage, string baseUrl, string correlationId, CallCounter calls, CancellationToken cancellationToken)
    {
        var resources = new List<Resource>();
        string? url = firstPage;
        for (var page = 0; url is not null; page++)
        {
            if (page == options.Value.MaxPagesPerType)
            {
                throw new SourceFailureException(SourceOutcome.Failed, $"kept paging past {options.Value.MaxPagesPerType} pages");
            }

            var bundle = await GetAsync<Bundle>(client, url, correlationId, calls, cancellationToken);
            resources.AddRange(bundle.Entry
                .Where(e => e.Search?.Mode is null or Bundle.SearchEntryMode.Match)
                .Select(e => e.Resource)
                .OfType<Resource>());
            url = bundle.NextLink?.ToString();

            // A next link is followed only within the source's own base: it must never send the gateway elsewhere.
            if (url is not null && !url.StartsWith(baseUrl + "/", StringComparison.OrdinalIgnoreCase) && !url.StartsWith(baseUrl + "?", StringComparison.OrdinalIgnoreCase))
            {
                throw new SourceFailureException(SourceOutcome.Unreadable, "sent a next link outside its own FHIR base");
            }
        }

        return resources;
    }

    /// <summary>Reads one resource from a source, with the same checks as a federated read; failures are <see cref="SourceFailureException"/>.</summary>
    public Task<T> ReadAsync<T>(string odsCode, string url, string correlationId, CancellationToken cancellationToken)
        where T : Resource =>
        GetAsync<T>(httpClientFactory.CreateSourceClient(odsCode), url, correlationId, new CallCounter(), cancellationToken);

    private async Task<T> GetAsync<T>(HttpClient client, string url, string correlationId, CallCounter calls, CancellationToken cancellationToken)
        where T : Resource
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(FhirJson.MediaType));
        request.Headers.Add("X-Request-ID", correlationId);
        calls.Increment();

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            // The source's own error text is not passed on: it may hold patient details or internal addresses.
            throw new SourceFailureException(SourceOutcome.Failed, $"answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        }

        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType is null || !mediaType.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            throw new SourceFailureException(SourceOutcome.Unreadable, $"answered with {mediaType ?? "no content type"}, not FHIR JSON");
        }

        var limit = options.Value.MaxSourceResponseBytes;
        if (response.Content.Headers.ContentLength > limit)
        {
            throw TooLarge(limit);
        }

        Resource? resource;
        try
        {
            await using var body = new LimitedStream(await response.Content.ReadAsStreamAsync(cancellationToken), limit);
            resource = await JsonSerializer.DeserializeAsync<Resource>(body, FhirJson.Lenient, cancellationToken);
        }
        catch (Exception ex) when (ex is JsonException or DeserializationFailedException or NotSupportedException)
        {
            throw new SourceFailureException(SourceOutcome.Unreadable, "answered with JSON that is not valid FHIR");
        }
        catch (LimitExceededException)
        {
            throw TooLarge(limit);
        }

        // JSON without a known resourceType parses to an SDK placeholder whose name must not reach the clinician.
        if (resource is null || !ModelInfo.IsKnownResource(resource.TypeName))
        {
            throw new SourceFailureException(SourceOutcome.Unreadable, "answered with JSON that is not a FHIR resource");
        }

        return resource as T
            ?? throw new SourceFailureException(SourceOutcome.Unreadable, $"answered with {resource.TypeName} where a {typeof(T).Name} was expected");
    }

    private static SourceFailureException TooLarge(long limit) =>
        new(SourceOutcome.Unreadable, $"answered with more than {limit / 1024} KB, the most the gateway reads from one answer (Federation:MaxSourceResponseBytes)");

    private sealed class LimitExceededException : IOException;

    /// <summary>Reads at most <c>limit</c> bytes, then throws: a source sending without end must not fill the gateway's memory.</summary>
    private sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int read)
        {
            _read += read;
            return _read > limit ? throw new LimitExceededException() : read;
        }

        public override void Flush() => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 210, Level = LogLevel.Warning, Message = "Source {OdsCode} returned a {ResourceType} not about the matched patient; withheld (correlation {CorrelationId})")]
        public static partial void WrongPatientItem(ILogger logger, string odsCode, string resourceType, string correlationId);
    }
}

/// <summary>Counts calls made across the parallel fetches of one source, for the audit and metrics.</summary>
internal sealed class CallCounter
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Increment() => Interlocked.Increment(ref _count);
}
