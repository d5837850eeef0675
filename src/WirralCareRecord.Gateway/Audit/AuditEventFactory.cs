using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// Shapes accesses as FHIR AuditEvents after IHE Basic Audit Log Patterns (BALP): Query for the federated read,
/// Read for single-source reads, with the patient, the gateway and every source queried as entities.
/// See https://profiles.ihe.net/ITI/BALP/.
/// Element order is FHIR's, as the SDK writes it, so a line reads the same whichever wrote it.
/// </summary>
public static class AuditEventFactory
{
    public const string UserIdSystem = "https://fhir.wirralcarerecord.nhs.uk/Id/user";
    public const string SourceOutcomeSystem = "https://fhir.wirralcarerecord.nhs.uk/CodeSystem/wcr-source-outcome";
    private const string Dcm = "http://dicom.nema.org/resources/ontology/DCM";
    private const string RestfulInteraction = "http://hl7.org/fhir/restful-interaction";
    private const string EntityType = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
    private const string ObjectRole = "http://terminology.hl7.org/CodeSystem/object-role";
    private const string ParticipationType = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
    private const string RoleClass = "http://terminology.hl7.org/CodeSystem/v3-RoleClass";
    private const string ActReason = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
    private const string RoleSystem = "https://fhir.wirralcarerecord.nhs.uk/CodeSystem/wcr-role";
    private const string GatewayName = "Wirral Care Record gateway";

    /// <summary>The v3 ActReason for break-glass access.</summary>
    public const string BreakGlass = "BTG";

    /// <summary>The query entity's detail holding the HTTP status the caller was answered with.</summary>
    public const string HttpStatusDetail = "http-status";

    /// <summary>The query entity's detail saying how the record was reached (<see cref="AccessChannel"/>): local-system, context-launch or gateway-pages.</summary>
    public const string ChannelDetail = "channel";

    /// <summary>A source entity's detail naming the source's kind of care setting when it was read (<see cref="OrganisationKind"/>).</summary>
    public const string SettingDetail = "setting";

    /// <summary>
    /// Writes <paramref name="entry"/> as one AuditEvent, linked to the line before it by <paramref name="previousHash"/>
    /// (<see cref="AuditChain"/>). Written directly rather than built as SDK objects and serialised: every request
    /// writes one, and the result is what the SDK would write (a test holds the two together).
    /// </summary>
    public static void Write(Utf8JsonWriter json, AuditEntry entry, ReadOnlySpan<byte> previousHash)
    {
        var access = entry.Access;

        // Break-glass replaces the caller's purpose: auditors find these accesses by it (BALP, purposeOfEvent).
        var purpose = access.BreakGlassReason is null ? access.PurposeOfUse : BreakGlass;
        var query = access.Kind == AccessKind.FederatedRead;
        var admin = access.Kind == AccessKind.AdminAction;

        // An auditor reading the log is a BALP Query too (search), in the same log as what it reads.
        var auditorQuery = access.Kind == AccessKind.AuditorQuery;

        json.WriteStartObject();
        json.WriteString("resourceType"u8, "AuditEvent"u8);
        json.WriteString("id"u8, entry.Id);
        json.WriteStartArray("extension"u8);
        json.WriteStartObject();
        json.WriteString("url"u8, AuditChain.PreviousHashUrl);
        json.WriteBase64String("valueBase64Binary"u8, previousHash);
        json.WriteEndObject();
        json.WriteEndArray();

        json.WritePropertyName("type"u8);
        if (query || auditorQuery)
        {
            Coding(json, Dcm, "110112", "Query");
        }
        else
        {
            Coding(json, RestfulInteraction, "rest", "Restful Operation");
        }

        json.WriteStartArray("subtype"u8);
        var subtype = query ? "operation" : auditorQuery ? "search" : admin ? "update" : "read";
        Coding(json, RestfulInteraction, subtype, subtype);
        json.WriteEndArray();

        json.WriteString("action"u8, query || auditorQuery ? "E"u8 : admin ? "U"u8 : "R"u8);
        json.WriteString("recorded"u8, entry.Recorded.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", CultureInfo.InvariantCulture));
        json.WriteString("outcome"u8, access.HttpStatus switch { < 400 => "0"u8, < 500 => "4"u8, _ => "8"u8 });
        Text(json, "outcomeDesc"u8, string.IsNullOrEmpty(access.OutcomeDescription) ? $"HTTP {access.HttpStatus}" : access.OutcomeDescription);
        json.WriteStartArray("purposeOfEvent"u8);
        Concept(json, ActReason, purpose, null);
        json.WriteEndArray();

        json.WriteStartArray("agent"u8);
        json.WriteStartObject();
        json.WritePropertyName("type"u8);
        Concept(json, ParticipationType, "IRCP", "information recipient");
        if (access.Roles.Count > 0)
        {
            json.WriteStartArray("role"u8);
            foreach (var role in access.Roles)
            {
                Concept(json, RoleSystem, role, null);
            }

            json.WriteEndArray();
        }

        json.WriteStartObject("who"u8);
        IdentifierProperty(json, UserIdSystem, string.IsNullOrEmpty(access.UserId) ? "unidentified" : access.UserId);
        Text(json, "display"u8, access.UserName);
        json.WriteEndObject();
        json.WriteBoolean("requestor"u8, true);
        json.WriteStartArray("purposeOfUse"u8);
        Concept(json, ActReason, purpose, null);
        json.WriteEndArray();
        json.WriteEndObject();

        if (!string.IsNullOrEmpty(access.OrganisationOds))
        {
            json.WriteStartObject();

            // PROV is a v3 RoleClass code (as IHE BALP codes the user's organisation), not a ParticipationType.
            json.WritePropertyName("type"u8);
            Concept(json, RoleClass, "PROV", "healthcare provider");
            json.WriteStartObject("who"u8);
            IdentifierProperty(json, OdsCode.System, access.OrganisationOds);
            json.WriteEndObject();
            json.WriteBoolean("requestor"u8, false);
            json.WriteEndObject();
        }

        json.WriteStartObject();
        json.WritePropertyName("type"u8);
        Concept(json, Dcm, "110152", "Destination Role ID");
        json.WriteStartObject("who"u8);
        json.WriteString("display"u8, GatewayName);
        json.WriteEndObject();
        json.WriteBoolean("requestor"u8, false);
        json.WriteStartObject("network"u8);
        json.WriteString("address"u8, entry.InstanceId);
        json.WriteString("type"u8, "1"u8);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndArray();

        json.WriteStartObject("source"u8);
        json.WriteString("site"u8, entry.InstanceId);
        json.WriteStartObject("observer"u8);
        json.WriteString("display"u8, GatewayName);
        json.WriteEndObject();
        json.WriteStartArray("type"u8);
        Coding(json, "http://terminology.hl7.org/CodeSystem/security-source-type", "4", "Application Server");
        json.WriteEndArray();
        json.WriteEndObject();

        json.WriteStartArray("entity"u8);
        if (!string.IsNullOrEmpty(access.NhsNumber))
        {
            json.WriteStartObject();
            json.WriteStartObject("what"u8);
            IdentifierProperty(json, NhsNumber.System, access.NhsNumber);
            json.WriteEndObject();
            EntityKind(json, "1", "Person", "1", "Patient");
            json.WriteEndObject();
        }

        if (!string.IsNullOrEmpty(access.Subject))
        {
            json.WriteStartObject();
            json.WriteStartObject("what"u8);
            json.WriteString("reference"u8, access.Subject);
            json.WriteEndObject();
            EntityKind(json, "2", "System Object", "4", "Domain Resource");
            json.WriteEndObject();
        }

        json.WriteStartObject();
        EntityKind(json, "2", "System Object", "24", "Query");
        Text(json, "description"u8, access.Request);
        json.WriteStartArray("detail"u8);
        Detail(json, "correlation-id", access.CorrelationId);
        Detail(json, HttpStatusDetail, access.HttpStatus.ToString(CultureInfo.InvariantCulture));
        Detail(json, ChannelDetail, ChannelCode(access.Channel));
        if (access.BreakGlassReason is not null)
        {
            Detail(json, "break-glass-reason", access.BreakGlassReason);
        }

        json.WriteEndArray();
        json.WriteEndObject();

        foreach (var source in access.Sources)
        {
            json.WriteStartObject();
            json.WriteStartObject("what"u8);
            IdentifierProperty(json, OdsCode.System, source.OdsCode);
            json.WriteEndObject();
            EntityKind(json, "2", "System Object", "3", "Report");
            Text(json, "description"u8, source.Outcome);
            json.WriteStartArray("detail"u8);
            Detail(json, "outcome", source.Outcome);
            Detail(json, "resources", source.Resources.ToString(CultureInfo.InvariantCulture));
            Detail(json, "withheld", source.Withheld.ToString(CultureInfo.InvariantCulture));
            Detail(json, "calls", source.Calls.ToString(CultureInfo.InvariantCulture));
            if (entry.SettingOf?.Invoke(source.OdsCode) is { } setting)
            {
                Detail(json, SettingDetail, setting.ToString());
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>
    /// <paramref name="entry"/> as the SDK reads the line the log stores (with an all-zero link), for code that wants
    /// the resource itself: validation against WCR-AuditEvent, reports over generated logs.
    /// </summary>
    public static AuditEvent Create(AuditEntry entry)
    {
        var line = new ArrayBufferWriter<byte>(2048);
        using (var json = new Utf8JsonWriter(line))
        {
            Write(json, entry, new byte[32]);
        }

        return JsonSerializer.Deserialize<AuditEvent>(line.WrittenSpan, FhirJson.OwnOutput)!;
    }

    /// <inheritdoc cref="Create(AuditEntry)"/>
    public static AuditEvent Create(AccessAudit access, DateTimeOffset recorded, string instanceId, Func<string, OrganisationKind?>? settingOf = null) =>
        Create(new AuditEntry(access, recorded, instanceId, settingOf));

    private static void Coding(Utf8JsonWriter json, string system, string code, string? display)
    {
        json.WriteStartObject();
        json.WriteString("system"u8, system);
        json.WriteString("code"u8, code);
        Text(json, "display"u8, display);
        json.WriteEndObject();
    }

    /// <summary>A CodeableConcept of one coding; its words go in <c>text</c>, as the agents have always been written.</summary>
    private static void Concept(Utf8JsonWriter json, string system, string code, string? text)
    {
        json.WriteStartObject();
        json.WriteStartArray("coding"u8);
        Coding(json, system, code, null);
        json.WriteEndArray();
        Text(json, "text"u8, text);
        json.WriteEndObject();
    }

    private static void IdentifierProperty(Utf8JsonWriter json, string system, string value)
    {
        json.WriteStartObject("identifier"u8);
        json.WriteString("system"u8, system);
        json.WriteString("value"u8, value);
        json.WriteEndObject();
    }

    private static void EntityKind(Utf8JsonWriter json, string typeCode, string typeDisplay, string roleCode, string roleDisplay)
    {
        json.WritePropertyName("type"u8);
        Coding(json, EntityType, typeCode, typeDisplay);
        json.WritePropertyName("role"u8);
        Coding(json, ObjectRole, roleCode, roleDisplay);
    }

    private static void Detail(Utf8JsonWriter json, string type, string value)
    {
        json.WriteStartObject();
        json.WriteString("type"u8, type);
        json.WriteString("valueString"u8, value);
        json.WriteEndObject();
    }

    /// <summary>A string element, left out when empty: FHIR has no empty strings, and the log's reader would refuse the line.</summary>
    private static void Text(Utf8JsonWriter json, ReadOnlySpan<byte> name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            json.WriteString(name, value);
        }
    }

    /// <summary>The channel as the audit log writes it.</summary>
    public static string ChannelCode(AccessChannel channel) => channel switch
    {
        AccessChannel.ContextLaunch => "context-launch",
        AccessChannel.GatewayPages => "gateway-pages",
        _ => "local-system",
    };

    /// <summary>The channel a stored code names; null for events written before channels were recorded.</summary>
    public static AccessChannel? ChannelOf(string? code) => code switch
    {
        "local-system" => AccessChannel.LocalSystem,
        "context-launch" => AccessChannel.ContextLaunch,
        "gateway-pages" => AccessChannel.GatewayPages,
        _ => null,
    };
}
