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

    public static AllergyIntolerance Allergy(string id, string patientId, string? recordedDate = null) => new()
    {
        Id = id,
        RecordedDate = recordedDate,
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

    public const string Loinc = "http://loinc.org";

    /// <summary>A blood pressure reading as GP and hospital systems send it: the values in <c>component</c>, none on the Observation itself.</summary>
    public static Observation BloodPressure(string id, string patientId, int systolic, int diastolic, string when) => new()
    {
        Id = id,
        Status = ObservationStatus.Final,
        Category = [new CodeableConcept("http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs", "Vital Signs")],
        Code = new CodeableConcept(Snomed, "75367002", "Blood pressure"),
        Subject = new ResourceReference("Patient/" + patientId),
        Effective = new FhirDateTime(when),
        Component =
        [
            new Observation.ComponentComponent { Code = new CodeableConcept(Loinc, "8480-6", "Systolic blood pressure"), Value = new Quantity(systolic, "mm[Hg]") { Unit = "mmHg" } },
            new Observation.ComponentComponent { Code = new CodeableConcept(Loinc, "8462-4", "Diastolic blood pressure"), Value = new Quantity(diastolic, "mm[Hg]") { Unit = "mmHg" } },
        ],
    };

    public static Encounter Encounter(string id, string patientId, string classCode, string display, string start) => new()
    {
        Id = id,
        Status = Hl7.Fhir.Model.Encounter.EncounterStatus.Finished,
        Class = new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", classCode, display),
        Type = [new CodeableConcept { Text = display }],
        Subject = new ResourceReference("Patient/" + patientId),
        Period = new Period { Start = start, End = start },
    };

    /// <summary>A letter whose content is a Binary on the same server (<c>Binary/{binaryId}</c>), as hospital systems hold discharge summaries.</summary>
    public static DocumentReference Letter(string id, string patientId, string binaryId, string title, string date) => new()
    {
        Id = id,
        Status = DocumentReferenceStatus.Current,
        Type = new CodeableConcept(Snomed, "823701000000103", "Discharge letter"),
        Subject = new ResourceReference("Patient/" + patientId),
        Date = DateTimeOffset.Parse(date, System.Globalization.CultureInfo.InvariantCulture),
        Description = title,
        Content = [new DocumentReference.ContentComponent { Attachment = new Attachment { ContentType = "text/plain", Url = "Binary/" + binaryId, Title = title } }],
    };
}
