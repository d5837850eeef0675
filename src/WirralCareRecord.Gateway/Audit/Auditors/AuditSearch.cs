using System.Globalization;
using System.Text;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>Where the next page starts: after the event with this recorded time and id, in the search's order.</summary>
internal sealed record AuditCursor(DateTimeOffset Recorded, string Id)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Recorded.UtcTicks}_{Id}");

    public static AuditCursor Parse(string text)
    {
        var underscore = text.IndexOf('_', StringComparison.Ordinal);
        if (underscore <= 0 || !long.TryParse(text.AsSpan(0, underscore), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            || ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks || underscore == text.Length - 1)
        {
            throw new InvalidRequestException("'_cursor' is not one the gateway gave out; follow the Bundle's 'next' link as it is.");
        }

        return new AuditCursor(new DateTimeOffset(ticks, TimeSpan.Zero), text[(underscore + 1)..]);
    }

    public int CompareTo(DateTimeOffset recorded, string id)
    {
        var byTime = recorded.CompareTo(Recorded);
        return byTime != 0 ? byTime : string.CompareOrdinal(id, Id);
    }
}

/// <summary>
/// An auditor's search of the log (<c>GET /audit/AuditEvent</c>), parsed and checked. Unknown parameters are refused
/// rather than ignored: an auditor who misspells <c>patient</c> must not be shown everyone's accesses as if they were one
/// person's.
/// </summary>
internal sealed record AuditQuery(
    DateTimeOffset From,
    DateTimeOffset To,
    string? Agent,
    string? Organisation,
    string? Source,
    string? Patient,
    IReadOnlySet<AuditEvent.AuditEventOutcome>? Outcomes,
    bool? BreakGlass,
    bool Descending,
    int Count,
    AuditCursor? After)
{
    public const int MaxDays = 366;
    public const int DefaultDays = 30;
    public const int DefaultCount = 50;
    public const int MaxCount = 1000;

    private static readonly string[] Supported = ["date", "agent", "organisation", "source", "patient", "outcome", "break-glass", "_count", "_sort", "_cursor", "_format"];

    public DateOnly FirstDay => DateOnly.FromDateTime(From.UtcDateTime);

    public DateOnly LastDay => DateOnly.FromDateTime(To.UtcDateTime.AddTicks(-1));

    public static AuditQuery Parse(IQueryCollection query, DateTimeOffset now)
    {
        if (query.Keys.FirstOrDefault(k => !Supported.Contains(k, StringComparer.Ordinal)) is { } unknown)
        {
            throw new InvalidRequestException($"'{unknown}' is not a search parameter of the audit log. Use {string.Join(", ", Supported)}.", OperationOutcome.IssueType.NotSupported);
        }

        DateTimeOffset? from = null;
        DateTimeOffset? to = null;
        foreach (var value in query["date"])
        {
            var (lower, upper) = DateBounds(value ?? "");
            from = lower is null ? from : from is null || lower > from ? lower : from;
            to = upper is null ? to : to is null || upper < to ? upper : to;
        }

        var end = to ?? now;
        var start = from ?? end.AddDays(-DefaultDays);
        if (start >= end || end - start > TimeSpan.FromDays(MaxDays))
        {
            throw new InvalidRequestException($"The dates must give a period of at most {MaxDays} days, its start before its end (date=geYYYY-MM-DD&date=leYYYY-MM-DD).");
        }

        return new AuditQuery(
            start,
            end,
            TokenValue(Single(query, "agent")),
            Single(query, "organisation")?.ToUpperInvariant() is { } ods ? Ods(ods, "organisation") : null,
            Single(query, "source")?.ToUpperInvariant() is { } source ? Ods(source, "source") : null,
            Single(query, "patient") is { } patient ? Nhs(patient) : null,
            Single(query, "outcome") is { } outcomes ? outcomes.Split(',').Select(Outcome).ToHashSet() : null,
            Single(query, "break-glass") switch
            {
                null => null,
                "true" => true,
                "false" => false,
                _ => throw new InvalidRequestException("'break-glass' is true or false."),
            },
            Single(query, "_sort") switch
            {
                null or "date" => false,
                "-date" => true,
                _ => throw new InvalidRequestException("'_sort' is date (oldest first, the default) or -date (newest first)."),
            },
            Single(query, "_count") is { } count
                ? int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= MaxCount
                    ? n
                    : throw new InvalidRequestException($"'_count' is a number from 1 to {MaxCount}.")
                : DefaultCount,
            Single(query, "_cursor") is { } cursor ? AuditCursor.Parse(cursor) : null);
    }

    public bool Matches(AuditFacts facts) =>
        facts.Recorded >= From && facts.Recorded < To
        && (Agent is null || facts.UserId == Agent)
        && (Organisation is null || string.Equals(facts.OrganisationOds, Organisation, StringComparison.OrdinalIgnoreCase))
        && (Source is null || facts.Sources.Any(s => string.Equals(s.OdsCode, Source, StringComparison.OrdinalIgnoreCase)))
        && (Patient is null || facts.NhsNumber == Patient)
        && (Outcomes is null || (facts.Outcome is { } outcome && Outcomes.Contains(outcome)))
        && (BreakGlass is null || facts.BreakGlass == BreakGlass)
        && (After is null || (Descending ? After.CompareTo(facts.Recorded, facts.Id) < 0 : After.CompareTo(facts.Recorded, facts.Id) > 0));

    /// <summary>
    /// A cheap test on the stored line before it is parsed: a line that does not contain the wanted NHS number, user or
    /// organisation as text cannot match. Only values JSON writes unescaped are used this way.
    /// </summary>
    public bool MayMatch(AuditLine line)
    {
        foreach (var needle in new[] { Patient, Agent, Organisation, Source })
        {
            if (needle is not null && needle.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '@')
                && line.Bytes.Span.IndexOf(Encoding.ASCII.GetBytes(needle)) < 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A FHIR date search value: a prefix (eq, gt, ge, lt, le) and a date (a whole UTC day) or a dateTime with its offset.</summary>
    private static (DateTimeOffset? From, DateTimeOffset? To) DateBounds(string value)
    {
        var prefix = value.Length > 2 && char.IsAsciiLetterLower(value[0]) && char.IsAsciiLetterLower(value[1]) ? value[..2] : "eq";
        var text = value.Length > 2 && prefix == value[..2] ? value[2..] : value;
        DateTimeOffset start;
        DateTimeOffset next;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            next = start.AddDays(1);
        }
        else if (text.Contains('T', StringComparison.Ordinal)
            && (text.EndsWith('Z') || (text.Length > 6 && text[^6] is '+' or '-'))
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant))
        {
            start = instant;
            next = instant.AddTicks(1);
        }
        else
        {
            throw new InvalidRequestException("'date' is a date (YYYY-MM-DD, a UTC day) or a dateTime with its offset, after an optional prefix eq, gt, ge, lt or le.");
        }

        return prefix switch
        {
            "eq" => (start, next),
            "ge" => (start, null),
            "gt" => (next, null),
            "le" => (null, next),
            "lt" => (null, start),
            _ => throw new InvalidRequestException($"The date prefix '{prefix}' is not supported here; use eq, gt, ge, lt or le."),
        };
    }

    private static string? Single(IQueryCollection query, string name) =>
        query[name].Count switch
        {
            0 => null,
            1 when !string.IsNullOrWhiteSpace(query[name][0]) => query[name][0]!.Trim(),
            1 => throw new InvalidRequestException($"'{name}' is empty."),
            _ => throw new InvalidRequestException($"Give '{name}' once."),
        };

    /// <summary>Accepts a FHIR token (<c>system|value</c>) as well as the bare value.</summary>
    private static string? TokenValue(string? token) => token is null ? null : token[(token.IndexOf('|', StringComparison.Ordinal) + 1)..];

    private static string Ods(string value, string name) =>
        OdsCode.IsValid(TokenValue(value)) ? TokenValue(value)! : throw new InvalidRequestException($"'{name}' is an ODS code (3 to 6 letters and digits).");

    private static string Nhs(string value) =>
        NhsNumber.Check(TokenValue(value)) is { IsValid: true, Value: { } nhs }
            ? nhs
            : throw new InvalidRequestException("'patient' is a valid NHS number (10 digits, Modulus 11), optionally as https://fhir.nhs.uk/Id/nhs-number|N.");

    private static AuditEvent.AuditEventOutcome Outcome(string code) => code.Trim() switch
    {
        "0" => AuditEvent.AuditEventOutcome.N0,
        "4" => AuditEvent.AuditEventOutcome.N4,
        "8" => AuditEvent.AuditEventOutcome.N8,
        "12" => AuditEvent.AuditEventOutcome.N12,
        _ => throw new InvalidRequestException("'outcome' is one or more of 0 (success), 4 (refused or failed request), 8 (gateway failure), 12 (major failure), comma-separated."),
    };
}

/// <summary>One page of search results, and where the next starts.</summary>
internal sealed record AuditPage(IReadOnlyList<AuditEvent> Events, AuditCursor? Next);

/// <summary>Runs auditors' searches over the raw log, a day at a time, in recorded order.</summary>
internal sealed class AuditSearch(AuditLogReader reader)
{
    public async Task<AuditPage> SearchAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        var page = new List<(AuditFacts Facts, AuditEvent Event)>();
        var first = query.After is null ? query.FirstDay : DateOnly.FromDateTime(query.After.Recorded.UtcDateTime);
        var days = query.Descending
            ? Days(query.FirstDay, query.After is null ? query.LastDay : first).Reverse()
            : Days(first, query.LastDay);
        foreach (var day in days)
        {
            var matches = new List<(AuditFacts Facts, AuditEvent Event)>();
            await foreach (var (line, facts) in reader.DayFactsAsync(day, query.MayMatch, cancellationToken))
            {
                if (query.Matches(facts) && line.TryParse() is { } auditEvent)
                {
                    matches.Add((facts, auditEvent));
                }
            }

            var ordered = query.Descending
                ? matches.OrderByDescending(m => m.Facts.Recorded).ThenByDescending(m => m.Facts.Id, StringComparer.Ordinal)
                : matches.OrderBy(m => m.Facts.Recorded).ThenBy(m => m.Facts.Id, StringComparer.Ordinal);
            foreach (var match in ordered)
            {
                page.Add(match);
                if (page.Count > query.Count)
                {
                    var last = page[query.Count - 1].Facts;
                    return new AuditPage([.. page.Take(query.Count).Select(p => p.Event)], new AuditCursor(last.Recorded, last.Id));
                }
            }
        }

        return new AuditPage([.. page.Select(p => p.Event)], null);
    }

    private static IEnumerable<DateOnly> Days(DateOnly first, DateOnly last)
    {
        for (var day = first; day <= last; day = day.AddDays(1))
        {
            yield return day;
        }
    }
}
