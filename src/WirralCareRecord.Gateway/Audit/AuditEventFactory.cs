using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// Shapes accesses as FHIR AuditEvents after IHE Basic Audit Log Patterns (BALP): Query for the federated read,
/// Read for single-source reads, with the patient, the gateway and every source queried as entities.
/// See https://profiles.ihe.net/ITI/BALP/.
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

    /// <summary>The v3 ActReason for break-glass access.</summary>
    public const string BreakGlass = "BTG";

    /// <summary>The query entity's detail holding the HTTP status the caller was answered with.</summary>
    public const string HttpStatusDetail = "http-status";

    /// <summary>The query entity's detail saying how the record was reached (<see cref="AccessChannel"/>): local-system, context-launch or gateway-pages.</summary>
    public const string ChannelDetail = "channel";

    /// <summary>A source entity's detail naming the source's kind of care setting when it was read (<see cref="OrganisationKind"/>).</summary>
    public const string SettingDetail = "setting";

    /// <param name="settingOf">The kind of setting each source organisation is, recorded with the access so later reports count settings as they were.</param>
    public static AuditEvent Create(AccessAudit access, DateTimeOffset recorded, string instanceId, Func<string, OrganisationKind?>? settingOf = null)
    {
        // Break-glass replaces the caller's purpose: auditors find these accesses by it (BALP, purposeOfEvent).
        var purpose = access.BreakGlassReason is null ? access.PurposeOfUse : BreakGlass;
        var query = access.Kind == AccessKind.FederatedRead;
        var admin = access.Kind == AccessKind.AdminAction;

        // An auditor reading the log is a BALP Query too (search), in the same log as what it reads.
        var auditorQuery = access.Kind == AccessKind.AuditorQuery;
        var audit = new AuditEvent
        {
            Id = Guid.NewGuid().ToString(),
            Type = query || auditorQuery ? new Coding(Dcm, "110112", "Query") : new Coding(RestfulInteraction, "rest", "Restful Operation"),
            Subtype =
            [
                query ? new Coding(RestfulInteraction, "operation", "operation")
                : auditorQuery ? new Coding(RestfulInteraction, "search", "search")
                : admin ? new Coding(RestfulInteraction, "update", "update")
                : new Coding(RestfulInteraction, "read", "read"),
            ],
            Action = query || auditorQuery ? AuditEvent.AuditEventAction.E : admin ? AuditEvent.AuditEventAction.U : AuditEvent.AuditEventAction.R,
            Recorded = recorded,
            Outcome = access.HttpStatus switch
            {
                < 400 => AuditEvent.AuditEventOutcome.N0,
                < 500 => AuditEvent.AuditEventOutcome.N4,
                _ => AuditEvent.AuditEventOutcome.N8,
            },
            OutcomeDesc = access.OutcomeDescription ?? $"HTTP {access.HttpStatus}",
            PurposeOfEvent = [new CodeableConcept(ActReason, purpose)],
            Source = new AuditEvent.SourceComponent
            {
                Site = instanceId,
                Observer = new ResourceReference { Display = "Wirral Care Record gateway" },
                Type = [new Coding("http://terminology.hl7.org/CodeSystem/security-source-type", "4", "Application Server")],
            },
        };

        audit.Agent.Add(new AuditEvent.AgentComponent
        {
            Type = new CodeableConcept(ParticipationType, "IRCP", "information recipient"),
            Role = [.. access.Roles.Select(r => new CodeableConcept("https://fhir.wirralcarerecord.nhs.uk/CodeSystem/wcr-role", r))],
            Who = new ResourceReference
            {
                Identifier = new Identifier(UserIdSystem, access.UserId ?? "unidentified"),
                Display = access.UserName,
            },
            Requestor = true,
            PurposeOfUse = [new CodeableConcept(ActReason, purpose)],
        });
        if (access.OrganisationOds is not null)
        {
            audit.Agent.Add(new AuditEvent.AgentComponent
            {
                // PROV is a v3 RoleClass code (as IHE BALP codes the user's organisation), not a ParticipationType.
                Type = new CodeableConcept(RoleClass, "PROV", "healthcare provider"),
                Who = new ResourceReference { Identifier = new Identifier(OdsCode.System, access.OrganisationOds) },
                Requestor = false,
            });
        }

        audit.Agent.Add(new AuditEvent.AgentComponent
        {
            Type = new CodeableConcept(Dcm, "110152", "Destination Role ID"),
            Who = new ResourceReference { Display = "Wirral Care Record gateway" },
            Requestor = false,
            Network = new AuditEvent.NetworkComponent { Address = instanceId, Type = AuditEvent.AuditEventAgentNetworkType.N1 },
        });

        if (access.NhsNumber is not null)
        {
            audit.Entity.Add(new AuditEvent.EntityComponent
            {
                What = new ResourceReference { Identifier = new Identifier(NhsNumber.System, access.NhsNumber) },
                Type = new Coding(EntityType, "1", "Person"),
                Role = new Coding(ObjectRole, "1", "Patient"),
            });
        }

        if (access.Subject is not null)
        {
            audit.Entity.Add(new AuditEvent.EntityComponent
            {
                What = new ResourceReference(access.Subject),
                Type = new Coding(EntityType, "2", "System Object"),
                Role = new Coding(ObjectRole, "4", "Domain Resource"),
            });
        }

        audit.Entity.Add(new AuditEvent.EntityComponent
        {
            Type = new Coding(EntityType, "2", "System Object"),
            Role = new Coding(ObjectRole, "24", "Query"),
            Description = access.Request,
            Detail =
            [
                new AuditEvent.DetailComponent { Type = "correlation-id", Value = new FhirString(access.CorrelationId) },
                new AuditEvent.DetailComponent { Type = HttpStatusDetail, Value = new FhirString(access.HttpStatus.ToString(System.Globalization.CultureInfo.InvariantCulture)) },
                new AuditEvent.DetailComponent { Type = ChannelDetail, Value = new FhirString(ChannelCode(access.Channel)) },
                .. access.BreakGlassReason is null ? [] : new[] { new AuditEvent.DetailComponent { Type = "break-glass-reason", Value = new FhirString(access.BreakGlassReason) } },
            ],
        });

        foreach (var source in access.Sources)
        {
            audit.Entity.Add(new AuditEvent.EntityComponent
            {
                What = new ResourceReference { Identifier = new Identifier(OdsCode.System, source.OdsCode) },
                Type = new Coding(EntityType, "2", "System Object"),
                Role = new Coding(ObjectRole, "3", "Report"),
                Description = source.Outcome,
                Detail =
                [
                    new AuditEvent.DetailComponent { Type = "outcome", Value = new FhirString(source.Outcome) },
                    new AuditEvent.DetailComponent { Type = "resources", Value = new FhirString(source.Resources.ToString(System.Globalization.CultureInfo.InvariantCulture)) },
                    new AuditEvent.DetailComponent { Type = "withheld", Value = new FhirString(source.Withheld.ToString(System.Globalization.CultureInfo.InvariantCulture)) },
                    new AuditEvent.DetailComponent { Type = "calls", Value = new FhirString(source.Calls.ToString(System.Globalization.CultureInfo.InvariantCulture)) },
                    .. settingOf?.Invoke(source.OdsCode) is { } setting ? new[] { new AuditEvent.DetailComponent { Type = SettingDetail, Value = new FhirString(setting.ToString()) } } : [],
                ],
            });
        }

        return audit;
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
