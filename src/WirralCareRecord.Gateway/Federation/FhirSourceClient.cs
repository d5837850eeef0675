using System.Net.Http.Headers;
using System.Text.Json;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.PatientMatching;
using WirralCareRecord.Gateway.SourceAnswers;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>
/// Fetches one patient's record from one source: the Patient by NHS number and every permitted record type, in as few
/// calls as the source supports (<see cref="FetchStrategy"/>), following <c>next</c> links. Anything the gateway cannot
/// use is a <see cref="SourceFailureException"/>.
/// </summary>
internal sealed partial class FhirSourceClient(IHttpClientFactory httpClientFactory, IOptions<FederationOptions> options, SourceBufferPool buffers, TimeProvider time, ILogger<FhirSourceClient> logger)
{

    /// <summary>
    /// The patient's record from one source by <paramref name="strategy"/>. Every strategy ends in the same checks
    /// (the patient carries the NHS number, one merge followed, and every item decided by the source answer pipeline's
    /// rules: about this patient only, nothing restricted, nothing outside the agreement), so the record is the same
    /// whichever was used; only the number of calls differs.
    /// </summary>
    /// <param name="types">The record types to fetch; null for every type the grant permits (an empty list fetches the Patient only).</param>
    public async Task<SourceResult> FetchRecordAsync(SourceGrant grant, string nhsNumber, FetchStrategy strategy, string correlationId, CallCounter calls, CancellationToken cancellationToken, IReadOnlyList<string>? types = null)
    {
        var source = grant.Source;
        await using var call = new Call(httpClientFactory.CreateSourceClient(source.OdsCode), source.FhirBaseUrl.ToString().TrimEnd('/'), correlationId, calls) { MaxResponseBytes = options.Value.MaxSourceResponseBytes, Buffers = buffers, Labels = labels };
        var wanted = (types ?? options.Value.RecordTypes).Where(grant.Permits).ToList();
        var found = strategy == FetchStrategy.RevInclude && wanted.Count > 0
            ? await FindWithRevIncludeAsync(call, nhsNumber, wanted, cancellationToken)
            : await FindPatientAsync(call, nhsNumber, cancellationToken);
        if (found.Refusal is { } refusal)
        {
            return new SourceResult(grant, refusal.Outcome, null, KeptResources.None, time.GetUtcNow(), refusal.Detail, 0, calls.Count);
        }

        var patient = found.Patient!;
        var items = found.Items ?? strategy switch
        {
            FetchStrategy.Batch => await SearchInBatchAsync(call, patient.Id!, wanted, cancellationToken),
            _ => await SearchPerTypeAsync(call, patient.Id!, wanted, cancellationToken),
        };
        var (kept, withheld) = KeepPatientsOwn(grant, patient.Id!, nhsNumber, items, correlationId);
        return new SourceResult(grant, SourceOutcome.Returned, patient, kept, time.GetUtcNow(), null, withheld, calls.Count);
    }

    /// <summary>
    /// Whether the source holds a patient with this NHS number: one Patient search and nothing else, for the background
    /// re-sweep, which has no clinician to show a record to. The practices named as the patient's GP come with a match.
    /// </summary>
    public async Task<(MatchOutcome Outcome, IReadOnlyList<string> RegisteredPractices)> LocateAsync(Organisation source, string nhsNumber, string correlationId, CallCounter calls, CancellationToken cancellationToken)
    {
        await using var call = new Call(httpClientFactory.CreateSourceClient(source.OdsCode), source.FhirBaseUrl.ToString().TrimEnd('/'), correlationId, calls) { MaxResponseBytes = options.Value.MaxSourceResponseBytes, Buffers = buffers };
        var page = await GetPageAsync(call, HttpMethod.Get, $"{call.BaseUrl}/Patient?{IdentifierQuery(nhsNumber)}", null, strict: false, cancellationToken);
        var match = PatientMatcher.Match(MatchedPatients([page]), nhsNumber);
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
        var search = await GetPageAsync(call, HttpMethod.Get, $"{call.BaseUrl}/Patient?{IdentifierQuery(nhsNumber)}", null, strict: false, cancellationToken);
        var match = PatientMatcher.Match(MatchedPatients([search]), nhsNumber);
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
        var pages = await GetAllPagesAsync(call, $"{call.BaseUrl}/Patient?{IdentifierQuery(nhsNumber)}{revIncludes}&_count={options.Value.PageSize}", strict: true, cancellationToken);
        var match = PatientMatcher.Match(MatchedPatients(pages), nhsNumber);
        if (Refuse(match) is { } refusal)
        {
            return refusal;
        }

        if (SuccessorOf(match.Patient!, call.BaseUrl) is not { } successorId)
        {
            return new Found(null, match.Patient, Included(pages));
        }

        // The items came with the retired record; the surviving one is asked for the same way, by its id.
        var merged = await GetAllPagesAsync(call, $"{call.BaseUrl}/Patient?_id={Uri.EscapeDataString(successorId)}{revIncludes}&_count={options.Value.PageSize}", strict: true, cancellationToken);
        var successor = MatchedPatients(merged).FirstOrDefault(p => p.Id == successorId)
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

    private static bool IsMatch(EntrySlice entry) => entry.SearchMode is null or "match";

    /// <summary>
    /// The Patients a search matched, as SDK objects: the one kind of resource a decision needs whole (matching,
    /// demographics). Everything else stays bytes until the rules have decided on it.
    /// </summary>
    private static List<Patient> MatchedPatients(IEnumerable<AnswerPage> pages)
    {
        var patients = new List<Patient>();
        foreach (var page in pages)
        {
            foreach (var entry in page.Index.Entries.Where(e => e.Start >= 0 && IsMatch(e)))
            {
                using var bytes = page.Slice(entry);
                if (ResourceTypeOf(bytes.Span) == "Patient" && FhirJson.ReadSourceResource(bytes.Span) is Patient patient)
                {
                    patients.Add(patient);
                }
            }
        }

        return patients;
    }

    /// <summary>Everything a reverse-include search sent besides the patients; the safety rules decide what is kept.</summary>
    private static List<PageEntry> Included(IEnumerable<AnswerPage> pages) =>
        [.. pages.SelectMany(page => page.Index.Entries.Where(e => e.Start >= 0).Select(e => new PageEntry(page, e)))];

    private static List<PageEntry> Matches(IEnumerable<AnswerPage> pages) =>
        [.. pages.SelectMany(page => page.Index.Entries.Where(e => e.Start >= 0 && IsMatch(e)).Select(e => new PageEntry(page, e)))];

    private async Task<List<PageEntry>> SearchPerTypeAsync(Call call, string patientId, IReadOnlyList<string> types, CancellationToken cancellationToken)
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
    private async Task<List<PageEntry>> SearchInBatchAsync(Call call, string patientId, List<string> types, CancellationToken cancellationToken)
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

        var answer = await GetPageAsync(call, HttpMethod.Post, call.BaseUrl, batch, strict: false, cancellationToken);
        if (answer.Index.BundleType != "batch-response" || answer.Index.Entries.Count != types.Count)
        {
            throw new SourceFailureException(SourceOutcome.Unreadable, $"answered a batch of {types.Count} searches with something other than a batch-response of {types.Count} entries");
        }

        var pages = await Task.WhenAll(answer.Index.Entries.Select(async (entry, i) =>
        {
            var status = entry.ResponseStatus?.Trim() ?? "";
            if (!status.StartsWith('2'))
            {
                throw new SourceFailureException(SourceOutcome.Failed, $"answered {(status.Length == 0 ? "no status" : "HTTP " + status)} to its {types[i]} search in a batch");
            }

            var searchset = entry.Start < 0 ? null : answer.Nested(entry);
            if (searchset is null || !searchset.Index.IsBundle || searchset.Index.Malformed)
            {
                throw new SourceFailureException(SourceOutcome.Unreadable, $"answered its {types[i]} search in a batch with {searchset?.Index.ResourceType ?? "nothing"} where a Bundle was expected");
            }

            var found = new List<AnswerPage> { searchset };
            if (NextLink(searchset, call.BaseUrl) is { } next)
            {
                found.AddRange(await GetAllPagesAsync(call, next, strict: false, cancellationToken, firstPageNumber: 1));
            }

            return Matches(found);
        }));
        return [.. pages.SelectMany(p => p)];
    }

    /// <summary>
    /// Keeps only what the source answer pipeline's rules allow (<see cref="DisclosurePolicy"/>): tied to this patient by
    /// any kind of reference, nothing restricted on it or in it, inside the agreement. Kept items are copied out as bytes
    /// (<see cref="KeptResources"/>) for the combined record; withheld ones are only counted.
    /// </summary>
    private (KeptResources Kept, int Withheld) KeepPatientsOwn(SourceGrant grant, string patientId, string nhsNumber, IEnumerable<PageEntry> entries, string correlationId)
    {
        var source = grant.Source;
        var scope = new PatientScope(nhsNumber, new HashSet<string>(StringComparer.Ordinal) { patientId }, new SourceLocation(source.FhirBaseUrl, ""), grant.Permits, labels);
        var kept = new KeptResources(buffers, entries.TryGetNonEnumeratedCount(out var count) ? count : 0);
        try
        {
            return (kept, Keep(kept, scope, patientId, entries, source.OdsCode, correlationId));
        }
        catch
        {
            kept.Dispose();
            throw;
        }
    }

    /// <summary>Adds to <paramref name="kept"/> what the rules allow; returns how many were withheld.</summary>
    private int Keep(KeptResources kept, PatientScope scope, string patientId, IEnumerable<PageEntry> entries, string odsCode, string correlationId)
    {
        var withheld = 0;
        using var scanner = FactsScanner.Rent();
        var seen = scanner.Seen;
        foreach (var (page, entry) in entries)
        {
            var facts = page.FactsOf(entry, labels, scanner);
            if (facts.ResourceType is "OperationOutcome" || (facts.ResourceType == "Patient" && facts.Id == patientId) || !seen.Add((facts.ResourceType, facts.Id)))
            {
                continue;
            }

            var decision = string.IsNullOrEmpty(facts.Id) || !FhirModelTables.IsKnownResource(facts.ResourceType) ? Withholding.Undecidable : DisclosurePolicy.Decide(facts, scope);
            if (decision == Withholding.None)
            {
                // The combined record adds to the item's meta, so one whose meta is not the shape FHIR gives it is withheld too.
                using var bytes = page.Slice(entry);
                if (ItemFacts.FromOutline(bytes.Span, facts.ResourceType!, facts.Id!, facts.TopLevel, kept.Parts) is { } itemFacts)
                {
                    kept.Add(bytes.Span, itemFacts);
                    continue;
                }
            }

            if (decision == Withholding.NotThisPatient)
            {
                // A source returning another person's data is a safety incident at that source: log it, without identifiers.
                Log.WrongPatientItem(logger, odsCode, facts.ResourceType ?? "resource", correlationId);
            }

            withheld++;
        }

        return withheld;
    }

    private readonly RestrictedLabels labels = new(options.Value.RestrictedLabels);

    private static string? ResourceTypeOf(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isType = reader.ValueTextEquals("resourceType"u8);
            reader.Read();
            if (isType)
            {
                return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }

            reader.TrySkip();
        }

        return null;
    }

    private async Task<List<AnswerPage>> GetAllPagesAsync(Call call, string firstPage, bool strict, CancellationToken cancellationToken, int firstPageNumber = 0)
    {
        var pages = new List<AnswerPage>();
        string? url = firstPage;
        for (var page = firstPageNumber; url is not null; page++)
        {
            if (page == options.Value.MaxPagesPerType)
            {
                throw new SourceFailureException(SourceOutcome.Failed, $"kept paging past {options.Value.MaxPagesPerType} pages");
            }

            var answer = await GetPageAsync(call, HttpMethod.Get, url, null, strict, cancellationToken);
            if (!answer.Index.IsBundle)
            {
                throw new SourceFailureException(SourceOutcome.Unreadable, $"answered with {answer.Index.ResourceType} where a Bundle was expected");
            }

            pages.Add(answer);
            url = NextLink(answer, call.BaseUrl);
        }

        return pages;
    }

    /// <summary>The next page, which is followed only within the source's own base: it must never send the gateway elsewhere.</summary>
    private static string? NextLink(AnswerPage page, string baseUrl)
    {
        var url = page.Link("next");
        return url is null || url.StartsWith(baseUrl + "/", StringComparison.OrdinalIgnoreCase) || url.StartsWith(baseUrl + "?", StringComparison.OrdinalIgnoreCase)
            ? url
            : throw new SourceFailureException(SourceOutcome.Unreadable, "sent a next link outside its own FHIR base");
    }

    /// <summary>Reads one resource from a source, with the same checks as a federated read; failures are <see cref="SourceFailureException"/>.</summary>
    /// <param name="configure">Marks the request before it is sent (e.g. to keep it out of traces).</param>
    public Task<T> ReadAsync<T>(string odsCode, string url, string correlationId, CancellationToken cancellationToken, Action<HttpRequestMessage>? configure = null)
        where T : Resource =>
        ReadAsync<T>(httpClientFactory.CreateSourceClient(odsCode), buffers, url, correlationId, cancellationToken, configure);

    /// <summary>One resource from a FHIR server that is not a registry source (the demographics service), with <paramref name="client"/>.</summary>
    public static async Task<T> ReadAsync<T>(HttpClient client, SourceBufferPool buffers, string url, string correlationId, CancellationToken cancellationToken, Action<HttpRequestMessage>? configure = null)
        where T : Resource
    {
        await using var call = new Call(client, "", correlationId, new CallCounter()) { Configure = configure, Buffers = buffers };
        return await GetAsync<T>(call, url, cancellationToken);
    }

    private static async Task<T> GetAsync<T>(Call call, string url, CancellationToken cancellationToken)
        where T : Resource
    {
        var page = await GetPageAsync(call, HttpMethod.Get, url, null, strict: false, cancellationToken);
        Resource? resource;
        try
        {
            var reader = new Utf8JsonReader(page.Data);
            resource = JsonSerializer.Deserialize<Resource>(ref reader, FhirJson.Lenient);
        }
        catch (Exception ex) when (ex is JsonException or DeserializationFailedException or NotSupportedException)
        {
            throw new SourceFailureException(SourceOutcome.Unreadable, "answered with JSON that is not valid FHIR");
        }

        // JSON without a known resourceType parses to an SDK placeholder whose name must not reach the clinician.
        if (resource is null || !ModelInfo.IsKnownResource(resource.TypeName))
        {
            throw new SourceFailureException(SourceOutcome.Unreadable, "answered with JSON that is not a FHIR resource");
        }

        return resource as T
            ?? throw new SourceFailureException(SourceOutcome.Unreadable, $"answered with {resource.TypeName} where a {typeof(T).Name} was expected");
    }

    /// <summary>
    /// One answer from the source, read into pooled buffers under the size cap and outlined (<see cref="AnswerIndex"/>);
    /// held by <paramref name="call"/> until the read is over.
    /// </summary>
    private static async Task<AnswerPage> GetPageAsync(Call call, HttpMethod method, string url, Resource? body, bool strict, CancellationToken cancellationToken)
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

        SourceAnswer answer;
        try
        {
            answer = await SourceAnswer.ReadAsync(await response.Content.ReadAsStreamAsync(cancellationToken), limit, call.Buffers, cancellationToken);
        }
        catch (AnswerTooLargeException)
        {
            throw TooLarge(limit);
        }

        call.Hold(answer);
        var page = answer.Index(call.Labels);
        return !ModelInfo.IsKnownResource(page.Index.ResourceType ?? "") ? throw new SourceFailureException(SourceOutcome.Unreadable, "answered with JSON that is not a FHIR resource")
            : page.Index.Malformed ? throw new SourceFailureException(SourceOutcome.Unreadable, "answered with JSON that is not valid FHIR")
            : page;
    }

    private static SourceFailureException TooLarge(long limit) =>
        new(SourceOutcome.Unreadable, $"answered with more than {limit / 1024} KB, the most the gateway reads from one answer (Federation:MaxSourceResponseBytes)");

    /// <summary>One source's side of one read: where it is, and the calls made to it so far.</summary>
    private sealed record Call(HttpClient Client, string BaseUrl, string CorrelationId, CallCounter Calls) : IAsyncDisposable
    {
        private readonly List<SourceAnswer> _answers = [];

        /// <summary>Keeps an answer's pooled buffers until the read is done with its bytes.</summary>
        public void Hold(SourceAnswer answer)
        {
            lock (_answers)
            {
                _answers.Add(answer);
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var answer in _answers)
            {
                await answer.DisposeAsync();
            }
        }

        /// <summary>The most bytes read from one answer (<see cref="FederationOptions.MaxSourceResponseBytes"/>).</summary>
        public long MaxResponseBytes { get; init; } = FederationOptions.DefaultMaxSourceResponseBytes;

        public Action<HttpRequestMessage>? Configure { get; init; }

        public required SourceBufferPool Buffers { get; init; }

        /// <summary>When the read decides on what it fetches: each answer's facts are then read as it is outlined.</summary>
        public RestrictedLabels? Labels { get; init; }
    }

    /// <summary>The patient a source holds and, for a reverse-include search, the items that came with it; or why there is none.</summary>
    private sealed record Found(Refusal? Refusal, Patient? Patient, List<PageEntry>? Items);

    /// <summary>One resource in one answer page, not yet decided on.</summary>
    private readonly record struct PageEntry(AnswerPage Page, EntrySlice Entry);

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
