using System.Globalization;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.Mvc;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// What auditors can ask of the log (role <c>Auditor</c> only): search it, export it as NDJSON, verify its hash chains,
/// run the story-once report and list a source's disclosures. Nothing here, or anywhere, edits or deletes an event.
/// </summary>
internal static class AuditorEndpoints
{
    public const string NdjsonMediaType = "application/fhir+ndjson";
    private const int MaxReportDays = 3 * 366;

    public static IEndpointRouteBuilder MapAuditorEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var audit = endpoints.MapGroup("/audit").RequireAuthorization(Policies.Auditor).AddEndpointFilter(AuditorAccess.FilterAsync);
        audit.MapGet("/AuditEvent", SearchAsync);
        audit.MapGet("/$export", ExportAsync);
        audit.MapGet("/$verify", VerifyAsync);
        audit.MapGet("/$story-once-report", ReportAsync);
        audit.MapGet("/$disclosures", DisclosuresAsync);
        audit.MapGet("/break-glass", ListBreakGlassAsync);
        return endpoints;
    }

    private static async Task<FhirResult> SearchAsync(HttpContext context, AuditSearch search, TimeProvider time)
    {
        var query = AuditQuery.Parse(context.Request.Query, time.GetUtcNow());
        var page = await ReadingLog(() => search.SearchAsync(query, context.RequestAborted));
        var bundle = SearchSet(page.Events, time);
        bundle.Link.Add(new Bundle.LinkComponent { Relation = "self", Url = Url(context, context.Request.Query.SelectMany(q => q.Value.Select(v => KeyValuePair.Create(q.Key, v)))) });
        if (page.Next is { } next)
        {
            // The next page keeps this one's resolved period, so "the last 30 days" does not move while paging.
            var parameters = context.Request.Query
                .Where(q => q.Key is not ("_cursor" or "date"))
                .SelectMany(q => q.Value.Select(v => KeyValuePair.Create(q.Key, v)))
                .Append(KeyValuePair.Create("date", (string?)("ge" + query.From.ToString("O", CultureInfo.InvariantCulture))))
                .Append(KeyValuePair.Create("date", (string?)("lt" + query.To.ToString("O", CultureInfo.InvariantCulture))))
                .Append(KeyValuePair.Create("_cursor", (string?)next.ToString()));
            bundle.Link.Add(new Bundle.LinkComponent { Relation = "next", Url = Url(context, parameters) });
        }
        else if (query.After is null)
        {
            bundle.Total = page.Events.Count;
        }

        return new FhirResult(bundle);
    }

    /// <summary>
    /// The log as stored, blob by blob (oldest first), streamed as NDJSON: byte for byte what was written, so the
    /// export can be verified with the same chain.
    /// </summary>
    private static async Task<IResult> ExportAsync(HttpContext context, AuditLogReader reader, TimeProvider time, string? start = null, string? end = null)
    {
        var (first, last) = Range(start, end, time, AuditQuery.MaxDays, required: true);
        var blobs = new List<AuditLogBlob>();
        for (var day = first; day <= last; day = day.AddDays(1))
        {
            var day1 = day;
            blobs.AddRange(await ReadingLog(() => reader.BlobsAsync(day1, context.RequestAborted)));
        }

        // Streamed after the auditor's own query event is recorded (the endpoint filter runs before a result executes).
        return Results.Stream(async body =>
        {
            foreach (var blob in blobs)
            {
                var bytes = await reader.ReadAllAsync(blob.Name, context.RequestAborted);
                await body.WriteAsync(bytes, context.RequestAborted);
                if (bytes.Length > 0 && bytes.Span[^1] != (byte)'\n')
                {
                    await body.WriteAsync("\n"u8.ToArray(), context.RequestAborted);
                }
            }
        }, NdjsonMediaType);
    }

    private static async Task<FhirResult> VerifyAsync(HttpContext context, AuditChainVerifier verifier, string? date = null)
    {
        var day = Day(date, "date") ?? throw new InvalidRequestException("Give the day to verify: date=YYYY-MM-DD (a UTC day).");
        var result = await ReadingLog(() => verifier.VerifyAsync(day, context.RequestAborted));
        var summary = result.Breaks.Count == 0
            ? Invariant($"{day:yyyy-MM-dd}: {result.Blobs} blob(s), {result.Events} event(s); every blob's hash chain is intact.")
            : Invariant($"{day:yyyy-MM-dd}: {result.Blobs} blob(s), {result.Events} event(s); {result.Breaks.Count} blob(s) fail verification: the log has been altered or damaged there.");
        // A torn tail is not a break, but an auditor should still see it: it marks an instance that stopped mid-write.
        var torn = result.TornTails.Select(t =>
        {
            var issue = Outcomes.Issue(OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.Incomplete, Invariant(
                $"{t.Blob}, line {t.Line}: the last line is an unfinished write ({t.Bytes} bytes, no newline), as left by an instance stopped in the middle of an append. No request was answered on it and its writer moved to a new part; the lines before it verify."));
            issue.Location = [Invariant($"{t.Blob}#L{t.Line}")];
            return issue;
        });
        var outcome = Outcomes.Create(
            result.Breaks.Count == 0 ? OperationOutcome.IssueType.Informational : OperationOutcome.IssueType.Processing,
            summary,
            context.CorrelationId(),
            result.Breaks.Count == 0 ? OperationOutcome.IssueSeverity.Information : OperationOutcome.IssueSeverity.Error,
            result.Breaks.Select(b =>
            {
                var issue = Outcomes.Issue(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Processing, Invariant($"{b.Blob}, line {b.Line}: {b.Problem}"));
                issue.Location = [Invariant($"{b.Blob}#L{b.Line}")];
                if (b.EventId is not null)
                {
                    issue.Expression = [Invariant($"AuditEvent.where(id = '{b.EventId}')")];
                }

                return issue;
            }).Concat(torn));
        return new FhirResult(outcome);
    }

    private static async Task<IResult> ReportAsync(
        HttpContext context,
        StoryOnceReports reports,
        TimeProvider time,
        string? start = null,
        string? end = null,
        string? by = null,
        [FromQuery(Name = "_format")] string? format = null,
        [FromQuery(Name = "from-raw-log")] bool fromRawLog = false)
    {
        var (first, last) = Range(start, end, time, MaxReportDays, required: true);
        var grouping = by switch
        {
            null or "month" => ReportGrouping.Month,
            "week" => ReportGrouping.Week,
            "day" => ReportGrouping.Day,
            _ => throw new InvalidRequestException("'by' is day, week or month."),
        };
        var report = await ReadingLog(() => reports.RunAsync(first, last, grouping, fromRawLog, context.RequestAborted));
        return format switch
        {
            "csv" or "text/csv" => Results.Text(StoryOnceOutput.ToCsv(report), "text/csv; charset=utf-8"),
            null or "json" or FhirJson.MediaType => new FhirResult(StoryOnceOutput.ToMeasureReport(report)),
            _ => throw new InvalidRequestException("'_format' is csv or json."),
        };
    }

    private static async Task<FhirResult> DisclosuresAsync(HttpContext context, AuditDisclosures disclosures, TimeProvider time, string? source = null, string? start = null, string? end = null)
    {
        var ods = source?.Trim().ToUpperInvariant();
        if (!OdsCode.IsValid(ods))
        {
            throw new InvalidRequestException("Give the source organisation's ODS code: source=N85001.");
        }

        var (first, last) = Range(start, end, time, AuditQuery.MaxDays, required: false);
        var found = await ReadingLog(() => disclosures.ListAsync(ods!, first, last, context.RequestAborted));
        var bundle = SearchSet(found, time);
        bundle.Total = found.Count;
        return new FhirResult(bundle);
    }

    /// <summary>Every break-glass access in a period (default: the last 30 days): the search with <c>break-glass=true</c>, unpaged.</summary>
    private static async Task<FhirResult> ListBreakGlassAsync(HttpContext context, AuditSearch search, TimeProvider time, string? from = null, string? to = null)
    {
        var (first, last) = Range(from, to, time, AuditQuery.MaxDays, required: false, startName: "from", endName: "to");
        var query = new AuditQuery(
            new DateTimeOffset(first.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero),
            new DateTimeOffset(last.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero),
            null, null, null, null, null, BreakGlass: true, Descending: false, Count: int.MaxValue - 1, After: null);
        var page = await ReadingLog(() => search.SearchAsync(query, context.RequestAborted));
        var bundle = SearchSet(page.Events, time);
        bundle.Total = page.Events.Count;
        return new FhirResult(bundle);
    }

    private static Bundle SearchSet(IEnumerable<AuditEvent> events, TimeProvider time)
    {
        var bundle = new Bundle { Id = Guid.NewGuid().ToString(), Type = Bundle.BundleType.Searchset, Timestamp = time.GetUtcNow() };
        foreach (var auditEvent in events)
        {
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = "urn:uuid:" + auditEvent.Id,
                Resource = auditEvent,
                Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Match },
            });
        }

        return bundle;
    }

    /// <summary>A range of UTC days, inclusive; without dates, the 30 days to today.</summary>
    private static (DateOnly First, DateOnly Last) Range(string? start, string? end, TimeProvider time, int maxDays, bool required, string startName = "start", string endName = "end")
    {
        var first = Day(start, startName);
        var last = Day(end, endName);
        if (required && (first is null || last is null))
        {
            throw new InvalidRequestException($"Give '{startName}' and '{endName}' as YYYY-MM-DD (UTC days, both included).");
        }

        var lastDay = last ?? DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var firstDay = first ?? lastDay.AddDays(-AuditQuery.DefaultDays);
        if (firstDay > lastDay || lastDay.DayNumber - firstDay.DayNumber >= maxDays)
        {
            throw new InvalidRequestException($"Give '{startName}' on or before '{endName}', at most {maxDays} days apart (dates as YYYY-MM-DD).");
        }

        return (firstDay, lastDay);
    }

    private static DateOnly? Day(string? value, string name) =>
        value is null ? null
            : DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? day
            : throw new InvalidRequestException($"'{name}' is a date, YYYY-MM-DD.");

    /// <summary>A log that cannot be read is the service's fault, not the auditor's: 503, as when it cannot be written.</summary>
    private static async Task<T> ReadingLog<T>(Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            throw new GatewayException(
                StatusCodes.Status503ServiceUnavailable,
                OperationOutcome.IssueType.Transient,
                "The audit log could not be read just now. Try again shortly; if it persists, contact the Wirral Care Record service desk.",
                ex);
        }
    }

    /// <summary>A folder that cannot be read, or Azure refusing or unreachable (after its retries, as an AggregateException).</summary>
    private static bool IsStorageFailure(Exception ex) => ex switch
    {
        IOException or UnauthorizedAccessException or Azure.RequestFailedException => true,
        AggregateException aggregate => aggregate.InnerExceptions.All(IsStorageFailure),
        _ => false,
    };

    private static string Url(HttpContext context, IEnumerable<KeyValuePair<string, string?>> parameters) =>
        $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}{context.Request.Path}{QueryString.Create(parameters)}";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
