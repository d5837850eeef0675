using System.Text;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// The disclosure report for a data controller: every time data held by one source organisation was returned to
/// someone outside it, as IHE BALP Privacy Disclosure AuditEvents recorded at the source
/// (https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PrivacyDisclosure.Source), break-glass first,
/// then newest first. Each names the logged access it was derived from.
/// </summary>
internal sealed class AuditDisclosures(AuditLogReader reader)
{
    public const string Profile = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PrivacyDisclosure.Source";
    private const string Dcm = "http://dicom.nema.org/resources/ontology/DCM";
    private const string Lifecycle = "http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle";
    private const string EntityType = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
    private const string ObjectRole = "http://terminology.hl7.org/CodeSystem/object-role";

    public async Task<IReadOnlyList<AuditEvent>> ListAsync(string sourceOds, DateOnly firstDay, DateOnly lastDay, CancellationToken cancellationToken)
    {
        var needle = Encoding.ASCII.GetBytes(sourceOds);
        var found = new List<(AuditFacts Facts, AuditEvent Event)>();
        for (var day = firstDay; day <= lastDay; day = day.AddDays(1))
        {
            await foreach (var (line, facts) in reader.DayFactsAsync(day, line => line.Bytes.Span.IndexOf(needle) >= 0, cancellationToken))
            {
                if (facts.IsRecordRead
                    && facts.Succeeded
                    && !string.Equals(facts.OrganisationOds, sourceOds, StringComparison.OrdinalIgnoreCase)
                    && facts.Sources.Any(s => s.Outcome == "returned" && string.Equals(s.OdsCode, sourceOds, StringComparison.OrdinalIgnoreCase))
                    && line.TryParse() is { } auditEvent)
                {
                    found.Add((facts, auditEvent));
                }
            }
        }

        return [.. found
            .OrderByDescending(f => f.Facts.BreakGlass)
            .ThenByDescending(f => f.Facts.Recorded)
            .ThenBy(f => f.Facts.Id, StringComparer.Ordinal)
            .Select(f => Disclosure(sourceOds, f.Event))];
    }

    private static AuditEvent Disclosure(string sourceOds, AuditEvent access)
    {
        var disclosure = new AuditEvent
        {
            Id = Guid.NewGuid().ToString(),
            Meta = new Meta { Profile = [Profile] },
            Type = new Coding(Dcm, "110106", "Export"),
            Subtype = [new Coding(Lifecycle, "disclose", "Disclose Record Lifecycle Event")],
            Action = AuditEvent.AuditEventAction.R,
            Recorded = access.Recorded,
            Outcome = access.Outcome,
            PurposeOfEvent = [.. access.PurposeOfEvent.Select(p => (CodeableConcept)p.DeepCopy())],
            Source = (AuditEvent.SourceComponent)access.Source.DeepCopy(),
        };

        // The custodian disclosing: the source organisation whose data left it.
        disclosure.Agent.Add(new AuditEvent.AgentComponent
        {
            Type = new CodeableConcept(Dcm, "110153", "Source Role ID"),
            Who = new ResourceReference { Identifier = new Identifier(OdsCode.System, sourceOds) },
            Requestor = false,
        });

        // The recipients: the user who asked, and their organisation, as the access recorded them.
        foreach (var agent in access.Agent.Where(a => a.Requestor == true))
        {
            disclosure.Agent.Add((AuditEvent.AgentComponent)agent.DeepCopy());
        }

        foreach (var agent in access.Agent.Where(a => a.Requestor != true && a.Who?.Identifier?.System == OdsCode.System))
        {
            var recipient = (AuditEvent.AgentComponent)agent.DeepCopy();
            recipient.Type = new CodeableConcept(Dcm, "110152", "Destination Role ID");
            disclosure.Agent.Add(recipient);
        }

        foreach (var entity in access.Entity.Where(e => e.Role?.Code == "1" || e.Role?.Code == "24"
            || (e.Role?.Code == "3" && string.Equals(e.What?.Identifier?.Value, sourceOds, StringComparison.OrdinalIgnoreCase))))
        {
            disclosure.Entity.Add((AuditEvent.EntityComponent)entity.DeepCopy());
        }

        // The logged access this disclosure is read from, so an auditor can find it in the log and its chain.
        disclosure.Entity.Add(new AuditEvent.EntityComponent
        {
            What = new ResourceReference { Identifier = new Identifier("urn:ietf:rfc:3986", "urn:uuid:" + access.Id), Display = "AuditEvent " + access.Id },
            Type = new Coding(EntityType, "2", "System Object"),
            Role = new Coding(ObjectRole, "4", "Domain Resource"),
            Description = "The access recorded in the audit log",
        });
        return disclosure;
    }
}
