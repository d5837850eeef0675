using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.Tests.Common;

/// <summary>Small, realistic record items for tests, coded as UK systems code them.</summary>
public static class ClinicalData
{
    public const string Snomed = "http://snomed.info/sct";
    public const string Dmd = "https://dmd.nhs.uk";

    public static Condition Condition(string id, string patientId, string code = "44054006", string display = "Type 2 diabetes mellitus") => new()
    {
        Id = id,
        Subject = new ResourceReference("Patient/" + patientId),
        Code = new CodeableConcept(Snomed, code, display),
        ClinicalStatus = new CodeableConcept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active"),
    };

    public static AllergyIntolerance Allergy(string id, string patientId) => new()
    {
        Id = id,
        Patient = new ResourceReference("Patient/" + patientId),
        Code = new CodeableConcept(Snomed, "91936005", "Allergy to penicillin"),
    };

    public static MedicationStatement Medication(string id, string patientId) => new()
    {
        Id = id,
        Status = MedicationStatement.MedicationStatusCodes.Active,
        Subject = new ResourceReference("Patient/" + patientId),
        Medication = new CodeableConcept(Dmd, "39720311000001101", "Paracetamol 500mg tablets"),
    };

    public static Encounter Encounter(string id, string patientId) => new()
    {
        Id = id,
        Status = Hl7.Fhir.Model.Encounter.EncounterStatus.Finished,
        Class = new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "EMER", "emergency"),
        Subject = new ResourceReference("Patient/" + patientId),
    };
}
