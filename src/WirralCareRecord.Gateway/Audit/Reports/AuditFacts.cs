using System.Globalization;
using System.Text.Json;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>What one source did in an audited access.</summary>
internal sealed record SourceFact(string OdsCode, string Outcome, OrganisationKind? Setting);

/// <summary>
/// The facts of one AuditEvent that searches and reports use, read back from the event as
/// <see cref="AuditEventFactory"/> wrote it. Searches, roll-ups and raw scans all read events through here, so they
/// cannot disagree about what an event says.
/// </summary>
internal sealed record AuditFacts(
    string Id,
    DateTimeOffset Recorded,
    string? Request,
    int? HttpStatus,
    AuditEvent.AuditEventOutcome? Outcome,
    string? UserId,
    string? OrganisationOds,
    string? NhsNumber,
    bool BreakGlass,
    IReadOnlyList<SourceFact> Sources)
{
    /// <summary>How the record was reached; null for events written before the channel was recorded.</summary>
    public AccessChannel? Channel { get; init; }

    /// <summary>From the clinician's local system: its API call or a context launch from it (the outcomes framework's measure).</summary>
    public bool FromLocalSystem => Channel is AccessChannel.LocalSystem or AccessChannel.ContextLaunch;

    /// <summary>Source outcomes that mean the source could not be read at all.</summary>
    public static IReadOnlySet<string> FailedOutcomes { get; } = new HashSet<string>(StringComparer.Ordinal) { "failed", "timed-out", "unreadable", "circuit-open", "unavailable" };

    /// <summary><c>$wcr-getrecord</c>: the federated read by NHS number.</summary>
    public bool IsFederatedRead => Request?.Contains("/fhir/Patient/$wcr-getrecord", StringComparison.Ordinal) == true;

    /// <summary>A read of one source's data through its route.</summary>
    public bool IsSourceRead => Request?.Contains(" /sources/", StringComparison.Ordinal) == true;

    public bool IsRecordRead => IsFederatedRead || IsSourceRead;

    /// <summary>A record was returned: the answer was a success (2xx).</summary>
    public bool Succeeded => HttpStatus is >= 200 and < 300 || (HttpStatus is null && Outcome == AuditEvent.AuditEventOutcome.N0);

    /// <summary>The caller was turned away: not signed in, not allowed (no agreement, objection, no relationship) or over the rate limit.</summary>
    public bool Refused => HttpStatus is 401 or 403 or 429;

    /// <summary>
    /// The facts of a stored line, read with a plain JSON reader: several times faster than building the FHIR model, which
    /// is what lets a day be rolled up, or today be scanned for a report, in well under a second. Null when the line is not
    /// a JSON object (damaged or hand-edited: <c>$verify</c> says where).
    /// </summary>
    public static AuditFacts? From(ReadOnlyMemory<byte> line)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object ? From(root) : null;
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }

    private static AuditFacts From(JsonElement root)
    {
        string? query = null;
        int? status = null;
        string? patient = null;
        string? channel = null;
        var sources = new List<SourceFact>();
        foreach (var entity in Array(root, "entity"))
        {
            switch (Text(entity, "role", "code"))
            {
                case "24":
                    query ??= Text(entity, "description");
                    channel ??= Detail(entity, AuditEventFactory.ChannelDetail);
                    status ??= int.TryParse(Detail(entity, AuditEventFactory.HttpStatusDetail), NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code : null;
                    break;
                case "1" when Text(entity, "what", "identifier", "system") == PatientMatching.NhsNumber.System:
                    patient ??= Text(entity, "what", "identifier", "value");
                    break;
                case "3" when Text(entity, "what", "identifier", "system") == OdsCode.System && Text(entity, "what", "identifier", "value") is { } ods:
                    sources.Add(new SourceFact(
                        ods,
                        Detail(entity, "outcome") ?? Text(entity, "description") ?? "",
                        Enum.TryParse<OrganisationKind>(Detail(entity, AuditEventFactory.SettingDetail), out var kind) ? kind : null));
                    break;
            }
        }

        string? user = null;
        string? organisation = null;
        foreach (var agent in Array(root, "agent"))
        {
            var requestor = agent.TryGetProperty("requestor", out var flag) && flag.ValueKind == JsonValueKind.True;
            if (requestor)
            {
                user ??= Text(agent, "who", "identifier", "value");
            }
            else if (Text(agent, "who", "identifier", "system") == OdsCode.System)
            {
                organisation ??= Text(agent, "who", "identifier", "value");
            }
        }

        return new AuditFacts(
            Text(root, "id") ?? "",
            Text(root, "recorded") is { } recorded ? DateTimeOffset.Parse(recorded, CultureInfo.InvariantCulture) : DateTimeOffset.MinValue,
            query,
            status,
            Text(root, "outcome") switch
            {
                "0" => AuditEvent.AuditEventOutcome.N0,
                "4" => AuditEvent.AuditEventOutcome.N4,
                "8" => AuditEvent.AuditEventOutcome.N8,
                "12" => AuditEvent.AuditEventOutcome.N12,
                _ => null,
            },
            user,
            organisation,
            patient,
            Array(root, "purposeOfEvent").SelectMany(p => Array(p, "coding")).Any(c => Text(c, "code") == AuditEventFactory.BreakGlass),
            sources)
        { Channel = AuditEventFactory.ChannelOf(channel) };
    }

    private static IEnumerable<JsonElement> Array(JsonElement element, string name)
    {
        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var array) && array.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in array.EnumerateArray())
            {
                yield return item;
            }
        }
    }

    /// <summary>The string at the end of a path of object properties, or null.</summary>
    private static string? Text(JsonElement element, params ReadOnlySpan<string> path)
    {
        foreach (var name in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element))
            {
                return null;
            }
        }

        return element.ValueKind == JsonValueKind.String ? element.GetString() : null;
    }

    private static string? Detail(JsonElement entity, string type)
    {
        foreach (var detail in Array(entity, "detail"))
        {
            if (Text(detail, "type") == type)
            {
                return Text(detail, "valueString")
                    ?? (Text(detail, "valueBase64Binary") is { } encoded ? System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(encoded)) : null);
            }
        }

        return null;
    }
}
