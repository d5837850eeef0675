using System.Net.Http.Headers;
using System.Text.Json;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>
/// Fetches one patient's record from one source: the Patient by NHS number and every permitted record type, in as few
/// calls as the source supports (<see cref="FetchStrategy"/>), following <c>next</c> links. Anything the gateway cannot
/// use is a <see cref="SourceFailureException"/>.
/// </summary>
internal sealed partial class FhirSourceClient(IHttpClientFactory httpClientFactory, IOptions<FederationOptions> options, TimeProvider time, ILogger<FhirSourceClient> logger)
{

    /// <summary>
    /// The patient's record from one source by <paramref name="strategy"/>. Every strategy ends in the same checks
    /// (the patient carries the NHS number, one merge followed, items about the patient only, restricted items withheld),
    /// so the record is the same whichever was used; only the number of calls differs.
    /// </summary>
    public async Task<SourceResult> FetchRecordAsync(SourceGrant grant, string nhsNumber, FetchStrategy strategy, string correlationId, CallCounter calls, CancellationToken cancellationToken)
    {
        var source = grant.Source;
        var call = new Call(httpClientFactory.CreateSourceClient(source.OdsCode), source.FhirBaseUrl.ToString().TrimEnd('/'), correlationId, calls) { MaxResponseBytes = options.Value.MaxSourceResponseBytes };
        var types = options.Value.RecordTypes.Where(grant.Permits).ToList();
        var found = strategy == FetchStrategy.RevInclude
            ? await FindWithRevIncludeAsync(call, nhsNumber, types, cancellationToken)
            : await FindPatientAsync(call, nhsNumber, cancellationToken);
        if (found.Refusal is { } refusal)
        {
            return new SourceResult(grant, refusal.Outcome, null, [], time.GetUtcNow(), refusal.Detail, 0, calls.Count);
        }

        var patient = found.Patient!;
        var items = found.Items ?? strategy switch
        {
            FetchStrategy.Batch => await SearchInBatchAsync(call, patient.Id!, types, cancellationToken),
            _ => await SearchPerTypeAsync(call, patient.Id!, types, cancellationToken),
        };
        var (kept, withheld) = KeepPatientsOwn(grant, patient.Id!, items, correlationId);
        return new SourceResult(grant, SourceOutcome.Returned, patient, kept, time.GetUtcNow(), null, withheld, calls.Count);
    }

    /// <summary>
    /// Whether the source holds a patient with this NHS number: one Patient search and nothing else, for the background
    /// re-sweep, which has no clinician to show a record to. The practices named as the patient's GP come with a match.
    /// </summary>
    public async Task<(MatchOutcome Outcome, IReadOnlyList<string> RegisteredPractices)> LocateAsync(Organisation source, string nhsNumber, string correlationId, CallCounter calls, CancellationToken cancellationToken)
    {
        var call = new Call(httpClientFactory.CreateSourceClient(source.OdsCode), source.FhirBaseUrl.ToString().TrimEnd('/'), correlationId, calls) { MaxResponseBytes = options.Value.MaxSourceResponseBytes };
        var search = await GetAsync<Bundle>(call, $"{call.BaseUrl}/Patient?{IdentifierQuery(nhsNumber)}", cancellationToken);
        var match = PatientMatcher.Match(search.Entry.Select(e => e.Resource).OfType<Patient>(), nhsNumber);
        return (match.Outcome, match.Patient is { } patient ? RegisteredPracticesOf(patient) : []);
    }

    /// <summary>The ODS codes of the practices a Patient names as its GP (<c>generalPractitioner</c> identifiers).</summary>
    public static IReadOnlyList<string> RegisteredPracticesOf(Patient patient) =>
        [.. patient.GeneralPractitioner
            .Select(g => g.Identifier?.System == OdsCode.System ? g.Identifier.Value : null)
            .OfType<string>()
            .Where(OdsCode.IsValid)
            .Select(code => code.ToUpperInvariant())
            .Distinct(StringComparer.Ordinal)];

    private static string IdentifierQuery(string nhsNumber) => "identifier=" + Uri.EscapeDataString(NhsNumber.System + "|" + nhsNumber);

    /// <summary>The Patient search, and the surviving record when the source has merged the one found.</summary>
    private static async Task<Found> FindPatientAsync(Call call, string nhsNumber, CancellationToken cancellationToken)
    {
        var search = await GetAsync<Bundle>(call, $"{call.BaseUrl}/Patient?{IdentifierQuery(nhsNumber)}", cancellationToken);
        var match = PatientMatcher.Match(search.Entry.Select(e => e.Resource).OfType<Patient>(), nhsNumber);
        if (Refuse(match) is { } refusal)
        {
            return refusal;
        }

        if (SuccessorOf(match.Patient!, call.BaseUrl) is not { } successorId)
        {
            return new Found(null, match.Patient, null);
        }

        var successor = await GetAsync<Patient>(call, $"{call.BaseUrl}/Patient/{Uri.EscapeDataString(successorId)}", cancellationToken);
        return ChainedMerge(successor) ?? new Found(null, successor, null);
    }

    /// <summary>
    /// The Patient search with a reverse include per record type: the patient and the whole record in one answer.
    /// <c>Prefer: handling=strict</c> asks the source to refuse rather than silently ignore a parameter, so a record is
    /// never shown empty because a source dropped the <c>_revinclude</c>.
    /// </summary>
    private async Task<Found> FindWithRevIncludeAsync(Call call, string nhsNumber, IReadOnlyList<string> types, CancellationToken cancellationToken)
    {
        var revIncludes = string.Concat(types.Select(t => "&_revinclude=" + Uri.EscapeDataString(SourceCapability.RevIncludeOf(t))));
        var entries = await GetAllPagesAsync(call, $"{call.BaseUrl}/Patient?{IdentifierQuery(nhsNumber)}{revIncludes}&_count={options.Value.PageSize}", strict: true, cancellationToken);
        var match = PatientMatcher.Match(Matches(entries).OfType<Patient>(), nhsNumber);
        if (Refuse(match) is { } refusal)
        {
            return refusal;
        }

        if (SuccessorOf(match.Patient!, call.BaseUrl) is not { } successorId)
        {
            return new Found(null, match.Patient, Included(entries));
        }

        // The items came with the retired record; the surviving one is asked for the same way, by its id.
        var merged = await GetAllPagesAsync(call, $"{call.BaseUrl}/Patient?_id={Uri.EscapeDataString(successorId)}{revIncludes}&_count={options.Value.PageSize}", strict: true, cancellationToken);
        var successor = Matches(merged).OfType<Patient>().FirstOrDefault(p => p.Id == successorId)
            ?? throw new SourceFailureException(SourceOutcome.Unreadable, "marks the patient as merged but did not return the record it points to");
        return ChainedMerge(successor) ?? new Found(null, successor, Included(merged));
    }

    private static Found? Refuse(SourcePatientMatch match) => match.Outcome switch
    {
        MatchOutcome.Match => null,
        MatchOutcome.Conflict => new Found(new Refusal(SourceOutcome.Conflict, match.Reason), null, null),
        _ => new Found(new Refusal(SourceOutcome.NoMatch, match.Reason), null, null),
    };

    /// <summary>The id of the record this one was merged into, if any: followed once, never a chain, and never off the source.</summary>
    private static string? SuccessorOf(Patient patient, string baseUrl) =>
        patient.Link.FirstOrDefault(l => l.Type == Patient.LinkType.ReplacedBy) is { } merged
            ? RecordSafety.PatientIdOf(merged.Other?.Reference, baseUrl)
                ?? throw new SourceFailureException(SourceOutcome.Unreadable, "marks the patient as merged but does not say into which of its own records")
            : null;

    private static Found? ChainedMerge(Patient successor) =>
        successor.Link.Any(l => l.Type == Patient.LinkType.ReplacedBy) || string.IsNullOrEmpty(successor.Id)
            ? new Found(new Refusal(SourceOutcome.Conflict, "holds a merged record that points to another merged record, so none of its data has been included"), null, null)
            : null;

    private static IEnumerable<Resource> Matches(IEnumerable<Bundle.EntryComponent> entries) =>
        entries.Where(e => e.Search?.Mode is null or Bundle.SearchEntryMode.Match).Select(e => e.Resource).OfType<Resource>();

    /// <summary>Everything a reverse-include search sent besides the patients it matched; the safety checks decide what is kept.</summary>
    private static List<Resource> Included(IEnumerable<Bundle.EntryComponent> entries) =>
        [.. entries.Select(e => e.Resource).OfType<Resource>().Where(r => r is not Patient)];

    private async Task<List<Resource>> SearchPerTypeAsync(Call call, string patientId, IReadOnlyList<string> types, CancellationToken cancellationToken)
    {
        // One failed type fails the source, so stop its other searches at once rather than let them run to the timeout.
        using var siblings = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pages = await Task.WhenAll(types.Select(async type =>
        {
            try
            {
                return Matches(await GetAllPagesAsync(call, $"{call.BaseUrl}/{type}?patient={Uri.EscapeDataString(patientId)}&_count={options.Value.PageSize}", strict: false, siblings.Token));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await siblings.CancelAsync();
                throw;
            }
        }));
        return [.. pages.SelectMany(p => p)];
    }

    /// <summary>
    /// One <c>batch</c> Bundle with a search per record type (FHIR R4 http.html#transaction). Each answer must be a
    /// successful searchset; its further pages are read as any other.
    /// </summary>
    private async Task<List<Resource>> SearchInBatchAsync(Call call, string patientId, List<string> types, CancellationToken cancellationToken)
    {
        if (types.Count == 0)
        {
            return [];
        }

        var batch = new Bundle { Type = Bundle.BundleType.Batch };
        foreach (var type in types)
        {
            batch.Entry.Add(new Bundle.EntryComponent
            {
                Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.GET, Url = $"{type}?patient={Uri.EscapeDataString(patientId)}&_count={options.Value.PageSize}" },
            });
        }

        var answer = await SendAsync<Bundle>(call, HttpMethod.Post, call.BaseUrl, batch, strict: false, cancellationToken);
        if (answer.Type != Bundle.BundleType.BatchResponse || answer.Entry.Count != types.Count)
        {
            throw new SourceFailureException(SourceOutcome.Unreadable, $"answered a batch of {types.Count} searches with something other than a batch-response of {types.Count} entries");
        }

        var pages = await Task.WhenAll(answer.Entry.Select(async (entry, i) =>
        {
            var status = entry.Response?.Status?.Trim() ?? "";
            if (!status.StartsWith('2'))
            {
                throw new SourceFailureException(SourceOutcome.Failed, $"answered {(status.Length == 0 ? "no status" : "HTTP " + status)} to its {types[i]} search in a batch");
            }

            if (entry.Resource is not Bundle searchset)
            {
                throw new SourceFailureException(SourceOutcome.Unreadable, $"answered its {types[i]} search in a batch with {entry.Resource?.TypeName ?? "nothing"} where a Bundle was expected");
            }

            var entries = searchset.Entry.ToList();
            if (NextLink(searchset, call.BaseUrl) is { } next)
            {
                entries.AddRange(await GetAllPagesAsync(call, next, strict: false, cancellationToken, firstPageNumber: 1));
            }

            return Matches(entries);
        }));
        return [.. pages.SelectMany(p => p)];
    }

    /// <summary>Keeps only what is safely this patient's and permitted; counts what was left out.</summary>
    private (List<Resource> Kept, int Withheld) KeepPatientsOwn(SourceGrant grant, string patientId, IEnumerable<Resource> resources, string correlationId)
    {
        var source = grant.Source;
        var kept = new List<Resource>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var withheld = 0;
        foreach (var resource in resources)
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

        return (kept, withheld);
    }

    private async Task<List<Bundle.EntryComponent>> GetAllPagesAsync(Call call, string firstPage, bool strict, CancellationToken cancellationToken, int firstPageNumber = 0)
    {
        var entries = new List<Bundle.EntryComponent>();
        string? url = firstPage;
        for (var page = firstPageNumber; url is not null; page++)
        {
            if (page == options.Value.MaxPagesPerType)
            {
                throw new SourceFailureException(SourceOutcome.Failed, $"kept paging past {options.Value.MaxPagesPerType} pages");
            }

            var bundle = await SendAsync<Bundle>(call, HttpMethod.Get, url, null, strict, cancellationToken);
            entries.AddRange(bundle.Entry.Where(e => e.Resource is not null));
            url = NextLink(bundle, call.BaseUrl);
        }

        return entries;
    }

    /// <summary>The next page, which is followed only within the source's own base: it must never send the gateway elsewhere.</summary>
    private static string? NextLink(Bundle bundle, string baseUrl)
    {
        var url = bundle.NextLink?.ToString();
        return url is null || url.StartsWith(baseUrl + "/", StringComparison.OrdinalIgnoreCase) || url.StartsWith(baseUrl + "?", StringComparison.OrdinalIgnoreCase)
            ? url
            : throw new SourceFailureException(SourceOutcome.Unreadable, "sent a next link outside its own FHIR base");
    }

    /// <summary>Reads one resource from a source, with the same checks as a federated read; failures are <see cref="SourceFailureException"/>.</summary>
    /// <param name="configure">Marks the request before it is sent (e.g. to keep it out of traces).</param>
    public Task<T> ReadAsync<T>(string odsCode, string url, string correlationId, CancellationToken cancellationToken, Action<HttpRequestMessage>? configure = null)
        where T : Resource =>
        ReadAsync<T>(httpClientFactory.CreateSourceClient(odsCode), url, correlationId, cancellationToken, configure);

    /// <summary>One resource from a FHIR server that is not a registry source (the demographics service), with <paramref name="client"/>.</summary>
    public static Task<T> ReadAsync<T>(HttpClient client, string url, string correlationId, CancellationToken cancellationToken, Action<HttpRequestMessage>? configure = null)
        where T : Resource =>
        GetAsync<T>(new Call(client, "", correlationId, new CallCounter()) { Configure = configure }, url, cancellationToken);

    private static Task<T> GetAsync<T>(Call call, string url, CancellationToken cancellationToken)
        where T : Resource =>
        SendAsync<T>(call, HttpMethod.Get, url, null, strict: false, cancellationToken);

    private static async Task<T> SendAsync<T>(Call call, HttpMethod method, string url, Resource? body, bool strict, CancellationToken cancellationToken)
        where T : Resource
    {
        using var request = new HttpRequestMessage(method, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(FhirJson.MediaType));
        request.Headers.Add("X-Request-ID", call.CorrelationId);
        if (strict)
        {
            request.Headers.TryAddWithoutValidation("Prefer", "handling=strict");
        }

        if (body is not null)
        {
            request.Content = new ByteArrayContent(FhirJson.SerializeToUtf8(body));
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(FhirJson.MediaType);
        }

        call.Configure?.Invoke(request);
        call.Calls.Increment();

        using var response = await call.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
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

        var limit = call.MaxResponseBytes;
        if (response.Content.Headers.ContentLength > limit)
        {
            throw TooLarge(limit);
        }

        Resource? resource;
        try
        {
            await using var stream = new LimitedReadStream(await response.Content.ReadAsStreamAsync(cancellationToken), limit, () => new LimitExceededException());
            resource = await JsonSerializer.DeserializeAsync<Resource>(stream, FhirJson.Lenient, cancellationToken);
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

    /// <summary>One source's side of one read: where it is, and the calls made to it so far.</summary>
    private sealed record Call(HttpClient Client, string BaseUrl, string CorrelationId, CallCounter Calls)
    {
        /// <summary>The most bytes read from one answer (<see cref="FederationOptions.MaxSourceResponseBytes"/>).</summary>
        public long MaxResponseBytes { get; init; } = FederationOptions.DefaultMaxSourceResponseBytes;

        public Action<HttpRequestMessage>? Configure { get; init; }
    }

    /// <summary>The patient a source holds and, for a reverse-include search, the items that came with it; or why there is none.</summary>
    private sealed record Found(Refusal? Refusal, Patient? Patient, List<Resource>? Items);

    private sealed record Refusal(SourceOutcome Outcome, string Detail);

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
