using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.PatientMatching;

/// <summary>
/// Keeps only resources that are about the matched patient. Sources are asked for one patient's resources,
/// but a misbehaving search (an ignored parameter, a paging bug) must never put another person's data in the record.
/// </summary>
public static class RecordSafety
{
    /// <summary>The reference naming the patient the resource is about, for the record types the gateway federates.</summary>
    public static ResourceReference? PatientReferenceOf(Resource resource) => resource switch
    {
        AllergyIntolerance r => r.Patient,
        Condition r => r.Subject,
        MedicationStatement r => r.Subject,
        MedicationRequest r => r.Subject,
        Encounter r => r.Subject,
        Observation r => r.Subject,
        Immunization r => r.Patient,
        Procedure r => r.Subject,
        DocumentReference r => r.Subject,
        _ => null,
    };

    /// <summary>
    /// True when the resource points at <paramref name="patientId"/> at this source: relatively (<c>Patient/id</c>)
    /// or absolutely under the source's own base. A resource whose patient cannot be told is not about the patient.
    /// </summary>
    public static bool IsAbout(Resource resource, string patientId, Uri sourceBase) =>
        PatientIdOf(PatientReferenceOf(resource)?.Reference, sourceBase.ToString().TrimEnd('/')) == patientId;

    /// <summary>
    /// The id of the Patient a reference points to at this source: <c>Patient/{id}</c>, optionally with a version or
    /// under the source's own base. Null for anything else (another server, a contained or logical reference).
    /// </summary>
    public static string? PatientIdOf(string? reference, string sourceBase)
    {
        if (string.IsNullOrEmpty(reference))
        {
            return null;
        }

        var relative = reference.StartsWith(sourceBase + "/", StringComparison.OrdinalIgnoreCase) ? reference[(sourceBase.Length + 1)..] : reference;
        return relative.Contains("://", StringComparison.Ordinal) ? null : SourceAnswers.DisclosurePolicy.PatientIdOf(relative);
    }

    public const string ConfidentialitySystem = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
}
