using Hl7.Fhir.Model;
using Hl7.Fhir.Utility;
using WirralCareRecord.Demo.Population;

namespace WirralCareRecord.Demo.Sources;

/// <summary>A source's resources in memory, indexed for the reads and searches the source answers.</summary>
internal sealed class SourceRecordStore
{
    /// <summary>The record types a source serves besides Patient, searched by <c>patient</c>.</summary>
    public static readonly IReadOnlyList<string> ClinicalTypes =
    [
        "AllergyIntolerance", "Condition", "MedicationStatement", "MedicationRequest", "Encounter",
        "Observation", "Immunization", "Procedure", "DocumentReference",
    ];

    private readonly Dictionary<(string Type, string Id), Resource> _byId = [];
    private readonly Dictionary<(string Type, string PatientId), List<Resource>> _byPatient = [];
    private readonly List<Patient> _patients = [];

    public SourceRecordStore(IEnumerable<Resource> resources)
    {
        foreach (var resource in resources)
        {
            var id = resource.Id ?? throw new InvalidOperationException($"A {resource.TypeName} has no id.");
            _byId.Add((resource.TypeName, id), resource);
            if (resource is Patient patient)
            {
                _patients.Add(patient);
                continue;
            }

            var patientId = PatientOf(resource) ?? throw new InvalidOperationException($"{resource.TypeName}/{resource.Id} refers to no patient.");
            if (!_byPatient.TryGetValue((resource.TypeName, patientId), out var list))
            {
                _byPatient[(resource.TypeName, patientId)] = list = [];
            }

            list.Add(resource);
        }
    }

    public int Count => _byId.Count;

    public int PatientCount => _patients.Count;

    public static bool IsServed(string type) => type == "Patient" || ClinicalTypes.Contains(type);

    public Resource? Read(string type, string id) => _byId.GetValueOrDefault((type, id));

    /// <summary>
    /// Patients with an identifier matching a FHIR token: <c>system|value</c>, <c>value</c> (any system) or <c>|value</c> (no system).
    /// A Patient marked <see cref="NotFoundByIdentifierSearch"/> (the survivor of a merge) is left out, as a stale search index would.
    /// </summary>
    public IReadOnlyList<Patient> FindPatients(string? token)
    {
        if (token is null)
        {
            return _patients;
        }

        var bar = token.IndexOf('|', StringComparison.Ordinal);
        var (system, value) = bar < 0 ? (null, token) : (token[..bar], token[(bar + 1)..]);
        return [.. _patients.Where(p => !p.HasAnnotation<NotFoundByIdentifierSearch>()
            && p.Identifier.Any(i => i.Value == value && (system is null || (i.System ?? "") == system)))];
    }

    public IReadOnlyList<Resource> ForPatient(string type, string patientId) =>
        _byPatient.TryGetValue((type, patientId), out var list) ? list : [];

    private static string? PatientOf(Resource resource)
    {
        var reference = resource switch
        {
            AllergyIntolerance a => a.Patient,
            Immunization i => i.Patient,
            Condition c => c.Subject,
            MedicationStatement m => m.Subject,
            MedicationRequest m => m.Subject,
            Encounter e => e.Subject,
            Observation o => o.Subject,
            Procedure p => p.Subject,
            DocumentReference d => d.Subject,
            _ => null,
        };
        return reference?.Reference is { } r && r.StartsWith("Patient/", StringComparison.Ordinal) ? r["Patient/".Length..] : null;
    }
}
