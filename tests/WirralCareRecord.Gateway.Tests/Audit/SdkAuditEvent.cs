using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Tests.Audit;

/// <summary>
/// The AuditEvent as the gateway built it with the Firely SDK's objects before it wrote the JSON directly; kept as the
/// reference <see cref="AuditEventFactory.Write"/> is held to.
/// </summary>
internal static class SdkAuditEvent
{
    private const string Dcm = "http://dicom.nema.org/resources/ontology/DCM";
    private const string RestfulInteraction = "http://hl7.org/fhir/restful-interaction";
    private const string EntityType = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
    private const string ObjectRole = "http://terminology.hl7.org/CodeSystem/object-role";
    private const string ParticipationType = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
    private const string RoleClass = "http://terminology.hl7.org/CodeSystem/v3-RoleClass";
    private const string ActReason = "http://terminology.hl7.org/CodeSystem/v3-ActReason";

    /// <summary><paramref name="entry"/> linked to <paramref name="previousHash"/>, as the log used to store it.</summary>
    public static AuditEvent Create(AuditEntry entry, byte[] previousHash)
    {
        var audit = Create(entry.Access, entry.Recorded, entry.InstanceId, entry.SettingOf);
        audit.Id = entry.Id;
        audit.SetExtension(AuditChain.PreviousHashUrl, new Base64Binary(previousHash));
        return audit;
    }

    private static AuditEvent Create(AccessAudit access, DateTimeOffset recorded, string instanceId, Func<string, OrganisationKind?>? settingOf)
    {
        // Break-glass replaces the caller's purpose: auditors find these accesses by it (BALP, purposeOfEvent).
        var purpose = access.BreakGlassReason is null ? access.PurposeOfUse : AuditEventFactory.BreakGlass;
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
                Identifier = new Identifier(AuditEventFactory.UserIdSystem, access.UserId ?? "unidentified"),
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
                new AuditEvent.DetailComponent { Type = AuditEventFactory.HttpStatusDetail, Value = new FhirString(access.HttpStatus.ToString(System.Globalization.CultureInfo.InvariantCulture)) },
                new AuditEvent.DetailComponent { Type = AuditEventFactory.ChannelDetail, Value = new FhirString(AuditEventFactory.ChannelCode(access.Channel)) },
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
                    .. settingOf?.Invoke(source.OdsCode) is { } setting ? new[] { new AuditEvent.DetailComponent { Type = AuditEventFactory.SettingDetail, Value = new FhirString(setting.ToString()) } } : [],
                ],
            });
        }

        return audit;
    }
}
