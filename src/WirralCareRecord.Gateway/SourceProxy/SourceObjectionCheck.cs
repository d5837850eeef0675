using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.SourceProxy;

/// <summary>
/// Objections apply to single-source reads as much as to the federated read. A source answer carries patients
/// (a Patient read or search) or items that reference a patient by id; the patients' NHS numbers are checked against
/// the objection list, looking the patient up at the source when the answer does not include it.
/// </summary>
internal sealed class SourceObjectionCheck(IOrganisationRegistry registry, FhirSourceClient sources)
{
    /// <summary>The objection that covers someone in <paramref name="resource"/>; throws when a referenced patient cannot be established.</summary>
    public async Task<Objection?> FindAsync(Resource resource, string odsCode, string sourceBase, string correlationId, CancellationToken cancellationToken)
    {
        var snapshot = registry.Current;
        if (snapshot.Objections.Count == 0)
        {
            return null;
        }

        var resources = resource is Bundle bundle ? bundle.Entry.Select(e => e.Resource).OfType<Resource>().ToList() : [resource];
        var patients = resources.OfType<Patient>().ToList();
        var known = patients.Select(p => p.Id).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var referenced = resources
            .Select(r => RecordSafety.PatientIdOf(RecordSafety.PatientReferenceOf(r)?.Reference, sourceBase))
            .OfType<string>()
            .Where(id => !known.Contains(id))
            .Distinct(StringComparer.Ordinal);
        foreach (var id in referenced)
        {
            try
            {
                patients.Add(await sources.ReadAsync<Patient>(odsCode, $"{sourceBase}/Patient/{Uri.EscapeDataString(id)}", correlationId, cancellationToken));
            }
            catch (SourceFailureException failure)
            {
                // What the clinician needs to know is why nothing is shown, not how the lookup failed.
                throw new SourceFailureException(failure.Outcome, "could not confirm whose record this is");
            }
        }

        return patients
            .SelectMany(p => p.Identifier.Where(i => i.System == NhsNumber.System))
            .Select(i => NhsNumber.Check(i.Value))
            .Where(c => c.IsValid)
            .Select(c => snapshot.ObjectionFor(c.Value!))
            .FirstOrDefault(o => o is not null);
    }
}
