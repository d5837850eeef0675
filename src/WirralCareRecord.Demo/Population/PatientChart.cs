using System.Globalization;
using System.Text;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Demo.Population;

/// <summary>
/// One person's record at one source while it is being written: the source's Patient, a seeded random source,
/// and helpers that add correctly shaped resources. Everything a chart adds refers to the Patient relatively.
/// </summary>
internal sealed class PatientChart
{
    private const string ObservationCategory = "http://terminology.hl7.org/CodeSystem/observation-category";
    private const string ConditionCategory = "http://terminology.hl7.org/CodeSystem/condition-category";
    private const string Ucum = "http://unitsofmeasure.org";

    private readonly Func<string, string> _newId;
    private readonly List<Resource> _resources;
    private readonly PersonBaseline _baseline;

    public PatientChart(DemoOrganisation source, SyntheticPerson person, Func<string, string> newId, List<Resource> resources)
    {
        Source = source;
        Person = person;
        _newId = newId;
        _resources = resources;
        _baseline = PersonBaseline.For(person);

        // Seeded from the person and the source so each source's record is stable but not a copy of another's.
        Random = new Random((person.Index * 7919) + SyntheticPopulation.StableHash(source.OdsCode));
        Patient = PatientFactory.Create(person, newId("Patient"), source);
        _resources.Add(Patient);
    }

    public DemoOrganisation Source { get; }

    public SyntheticPerson Person { get; }

    public Patient Patient { get; }

    public Random Random { get; }

    public PersonBaseline Baseline => _baseline;

    public ResourceReference Subject => new($"Patient/{Patient.Id}");

    public ResourceReference SourceOrganisation => OrganisationReference(Source);

    public static ResourceReference OrganisationReference(DemoOrganisation organisation) => new()
    {
        Identifier = new Identifier(OdsCode.System, organisation.OdsCode),
        Display = organisation.Name,
    };

    public static DateTimeOffset At(DateOnly day, int hour, int minute) =>
        new(day.ToDateTime(new TimeOnly(hour, minute)), TimeSpan.Zero);

    public static string Date(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string Date(DateTimeOffset at) => Date(DateOnly.FromDateTime(at.UtcDateTime));

    /// <summary>A day in [<paramref name="from"/>, <paramref name="to"/>), drawn from the chart's random source.</summary>
    public DateOnly DayBetween(DateOnly from, DateOnly to) =>
        to <= from ? from : from.AddDays(Random.Next(to.DayNumber - from.DayNumber));

    /// <summary>A time in surgery or clinic hours on <paramref name="day"/>.</summary>
    public DateTimeOffset DaytimeOn(DateOnly day) => At(day, Random.Next(8, 17), Random.Next(0, 12) * 5);

    /// <summary>Another Patient for the same person at this source, such as a registration retired by a merge; nothing the chart adds refers to it.</summary>
    public Patient AddPatient(Func<string, Patient> create)
    {
        var patient = create(_newId("Patient"));
        _resources.Add(patient);
        return patient;
    }

    private T Add<T>(T resource)
        where T : Resource
    {
        resource.Id = _newId(resource.TypeName);
        _resources.Add(resource);
        return resource;
    }

    private static ResourceReference Ref(Resource resource) => new($"{resource.TypeName}/{resource.Id}");

    public Encounter Encounter(string classCode, Concept type, DateTimeOffset start, TimeSpan length, string clinician, Concept? reason = null, string? service = null)
    {
        var classDisplay = classCode switch
        {
            "AMB" => "ambulatory",
            "EMER" => "emergency",
            "IMP" => "inpatient encounter",
            "HH" => "home health",
            _ => throw new ArgumentOutOfRangeException(nameof(classCode), classCode, "Not a class the demo uses."),
        };
        return Add(new Encounter
        {
            Status = Hl7.Fhir.Model.Encounter.EncounterStatus.Finished,
            Class = new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", classCode, classDisplay),
            Type = [type.ToCodeableConcept()],
            ServiceType = service is null ? null : new CodeableConcept { Text = service },
            Subject = Subject,
            Participant = [new Encounter.ParticipantComponent { Individual = new ResourceReference { Display = clinician } }],
            Period = new Period(new FhirDateTime(start), new FhirDateTime(start + length)),
            ReasonCode = reason is null ? [] : [reason.ToCodeableConcept()],
            ServiceProvider = SourceOrganisation,
        });
    }

    public Condition Condition(Concept code, bool problemList, DateOnly onset, DateOnly recorded, DateOnly? resolved = null, Encounter? encounter = null)
    {
        var (category, categoryDisplay) = problemList ? ("problem-list-item", "Problem List Item") : ("encounter-diagnosis", "Encounter Diagnosis");
        var clinicalStatus = resolved is null ? "active" : "resolved";
        return Add(new Condition
        {
            ClinicalStatus = new CodeableConcept("http://terminology.hl7.org/CodeSystem/condition-clinical", clinicalStatus, clinicalStatus == "active" ? "Active" : "Resolved", null),
            VerificationStatus = new CodeableConcept("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed", null),
            Category = [new CodeableConcept(ConditionCategory, category, categoryDisplay, null)],
            Code = code.ToCodeableConcept(),
            Subject = Subject,
            Encounter = encounter is null ? null : Ref(encounter),
            Onset = new FhirDateTime(Date(onset)),
            Abatement = resolved is null ? null : new FhirDateTime(Date(resolved.Value)),
            RecordedDate = Date(recorded),
        });
    }

    public AllergyIntolerance Allergy(AllergyKind kind, DateOnly onset, DateOnly recorded) => Add(new AllergyIntolerance
    {
        ClinicalStatus = new CodeableConcept("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "Active", null),
        VerificationStatus = new CodeableConcept("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed", "Confirmed", null),
        Type = AllergyIntolerance.AllergyIntoleranceType.Allergy,
        Category = [kind.Category],
        Criticality = kind.Criticality,
        Code = kind.Code.ToCodeableConcept(),
        Patient = Subject,
        Onset = new FhirDateTime(Date(onset)),
        RecordedDate = Date(recorded),
        Reaction = [new AllergyIntolerance.ReactionComponent { Manifestation = [kind.Manifestation.ToCodeableConcept()], Severity = kind.Severity }],
    });

    public MedicationStatement MedicationStatement(Medicine medicine, DateOnly started, DateOnly? stopped, DateOnly asserted) => Add(new MedicationStatement
    {
        Status = stopped is null ? Hl7.Fhir.Model.MedicationStatement.MedicationStatusCodes.Active : Hl7.Fhir.Model.MedicationStatement.MedicationStatusCodes.Completed,
        Medication = medicine.Product.ToCodeableConcept(),
        Subject = Subject,
        Effective = new Period { Start = Date(started), End = stopped is null ? null : Date(stopped.Value) },
        DateAsserted = Date(asserted),
        InformationSource = SourceOrganisation,
        Dosage = [new Dosage { Text = medicine.Dosage }],
    });

    /// <summary>A prescription or issue; <paramref name="category"/> is <c>community</c>, <c>inpatient</c> or <c>discharge</c>.</summary>
    public MedicationRequest Prescription(Medicine medicine, DateTimeOffset authored, bool active, bool repeat, string category, string prescriber, Encounter? encounter = null) => Add(new MedicationRequest
    {
        Status = active ? MedicationRequest.MedicationrequestStatus.Active : MedicationRequest.MedicationrequestStatus.Completed,
        Intent = MedicationRequest.MedicationRequestIntent.Order,
        Category = [new CodeableConcept("http://terminology.hl7.org/CodeSystem/medicationrequest-category", category, CultureInfo.InvariantCulture.TextInfo.ToTitleCase(category), null)],
        Medication = medicine.Product.ToCodeableConcept(),
        Subject = Subject,
        Encounter = encounter is null ? null : Ref(encounter),
        AuthoredOn = new FhirDateTime(authored).Value,
        Requester = new ResourceReference { Display = prescriber },
        CourseOfTherapyType = repeat
            ? new CodeableConcept("http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy", "continuous", "Continuous long term therapy", null)
            : new CodeableConcept("http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy", "acute", "Short course (acute) therapy", null),
        DosageInstruction = [new Dosage { Text = medicine.Dosage }],
        DispenseRequest = new MedicationRequest.DispenseRequestComponent
        {
            Quantity = new Quantity { Value = medicine.Quantity, Unit = medicine.QuantityUnit },
        },

        // UK Core requires it: whether the dispenser may supply a generic equivalent (in UK practice, yes).
        Substitution = new MedicationRequest.SubstitutionComponent { Allowed = new FhirBoolean(true) },
    });

    public Observation BloodPressure(DateTimeOffset at, Encounter? encounter)
    {
        var systolic = _baseline.Systolic + Random.Next(-12, 13);
        var diastolic = _baseline.Diastolic + Random.Next(-7, 8);
        var observation = NewObservation("vital-signs", "Vital Signs", at, encounter,
            new Concept(Concept.Snomed, "75367002", "Blood pressure"),
            new Concept(Concept.Loinc, "85354-9", "Blood pressure panel with all children optional"));
        observation.Component =
        [
            new Observation.ComponentComponent
            {
                Code = Codes(new Concept(Concept.Snomed, "72313002", "Systolic arterial pressure"), new Concept(Concept.Loinc, "8480-6", "Systolic blood pressure")),
                Value = MmHg(systolic),
            },
            new Observation.ComponentComponent
            {
                Code = Codes(new Concept(Concept.Snomed, "1091811000000102", "Diastolic arterial pressure"), new Concept(Concept.Loinc, "8462-4", "Diastolic blood pressure")),
                Value = MmHg(diastolic),
            },
        ];
        return Add(observation);
    }

    public Observation HeartRate(DateTimeOffset at, Encounter? encounter) => Measure("vital-signs", at, encounter,
        _baseline.HeartRate + Random.Next(-8, 9), "beats/minute", "/min",
        new Concept(Concept.Snomed, "364075005", "Heart rate"), new Concept(Concept.Loinc, "8867-4", "Heart rate"));

    public Observation RespiratoryRate(DateTimeOffset at, Encounter? encounter) => Measure("vital-signs", at, encounter,
        Random.Next(14, 23), "breaths/minute", "/min",
        new Concept(Concept.Snomed, "86290005", "Respiratory rate"), new Concept(Concept.Loinc, "9279-1", "Respiratory rate"));

    public Observation OxygenSaturation(DateTimeOffset at, Encounter? encounter) => Measure("vital-signs", at, encounter,
        Math.Min(100, _baseline.OxygenSaturation + Random.Next(-2, 2)), "%", "%",
        new Concept(Concept.Snomed, "431314004", "Peripheral oxygen saturation"), new Concept(Concept.Loinc, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"));

    public Observation Temperature(DateTimeOffset at, Encounter? encounter) => Measure("vital-signs", at, encounter,
        Math.Round(36.3m + (Random.Next(0, 16) / 10m), 1), "degrees Celsius", "Cel",
        new Concept(Concept.Snomed, "276885007", "Core body temperature"), new Concept(Concept.Loinc, "8310-5", "Body temperature"));

    public Observation BodyMassIndex(DateTimeOffset at, Encounter? encounter) => Measure("vital-signs", at, encounter,
        Math.Round(_baseline.BodyMassIndex + (Random.Next(-6, 7) / 10m), 1), "kg/m2", "kg/m2",
        new Concept(Concept.Snomed, "60621009", "Body mass index"), new Concept(Concept.Loinc, "39156-5", "Body mass index (BMI) [Ratio]"));

    public Observation HbA1c(DateTimeOffset at, Encounter? encounter) => Measure("laboratory", at, encounter,
        _baseline.HbA1c + Random.Next(-4, 5), "mmol/mol", "mmol/mol",
        new Concept(Concept.Loinc, "59261-8", "Hemoglobin A1c/Hemoglobin.total in Blood by IFCC protocol"));

    public Observation Egfr(DateTimeOffset at, Encounter? encounter) => Measure("laboratory", at, encounter,
        _baseline.Egfr + Random.Next(-5, 6), "mL/min/1.73m2", "mL/min/{1.73_m2}",
        new Concept(Concept.Loinc, "62238-1", "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or Blood by Creatinine-based formula (CKD-EPI)"));

    public Immunization Immunization(Concept vaccine, DateTimeOffset at, string lotPrefix) => Add(new Immunization
    {
        Status = Hl7.Fhir.Model.Immunization.ImmunizationStatusCodes.Completed,
        VaccineCode = vaccine.ToCodeableConcept(),
        Patient = Subject,
        Occurrence = new FhirDateTime(at),
        Recorded = new FhirDateTime(at).Value,
        PrimarySource = true,
        LotNumber = string.Create(CultureInfo.InvariantCulture, $"{lotPrefix}{Random.Next(1000, 9999)}"),
        Site = new CodeableConcept(Concept.Snomed, "368208006", "Left upper arm structure", null),
        Route = new CodeableConcept(Concept.Snomed, "78421000", "Intramuscular route", null),
        Performer = [new Immunization.PerformerComponent { Actor = SourceOrganisation }],
    });

    public Procedure Procedure(Concept code, DateTimeOffset at, Encounter? encounter) => Add(new Procedure
    {
        Status = EventStatus.Completed,
        Code = code.ToCodeableConcept(),
        Subject = Subject,
        Encounter = encounter is null ? null : Ref(encounter),
        Performed = new FhirDateTime(at),
    });

    /// <summary>A letter or summary: plain text, small enough to carry inline as the attachment's data.</summary>
    public DocumentReference Document(Concept type, string title, string text, DateTimeOffset at, Encounter? encounter, DemoOrganisation author) => Add(new DocumentReference
    {
        Status = DocumentReferenceStatus.Current,
        DocStatus = CompositionStatus.Final,
        Type = type.ToCodeableConcept(),
        Subject = Subject,
        Date = at,
        Author = [OrganisationReference(author)],
        Custodian = SourceOrganisation,
        Description = title,
        Content = [new DocumentReference.ContentComponent
        {
            Attachment = new Attachment
            {
                ContentType = "text/plain",
                Language = "en-GB",
                Data = Encoding.UTF8.GetBytes(text),
                Title = title,
                Creation = new FhirDateTime(at).Value,
            },
        }],
        Context = encounter is null ? null : new DocumentReference.ContextComponent { Encounter = [Ref(encounter)] },
    });

    private Observation Measure(string category, DateTimeOffset at, Encounter? encounter, decimal value, string unit, string ucum, params Concept[] codes)
    {
        var observation = NewObservation(category, category == "laboratory" ? "Laboratory" : "Vital Signs", at, encounter, codes);
        observation.Value = new Quantity { Value = value, Unit = unit, System = Ucum, Code = ucum };
        return Add(observation);
    }

    private Observation NewObservation(string category, string categoryDisplay, DateTimeOffset at, Encounter? encounter, params Concept[] codes) => new()
    {
        Status = ObservationStatus.Final,
        Category = [new CodeableConcept(ObservationCategory, category, categoryDisplay, null)],
        Code = Codes(codes),
        Subject = Subject,
        Encounter = encounter is null ? null : Ref(encounter),
        Effective = new FhirDateTime(at),
        Issued = at,
        Performer = [SourceOrganisation],
    };

    private static CodeableConcept Codes(params Concept[] codes) => new()
    {
        Coding = [.. codes.Select(c => c.ToCoding())],
        Text = codes[0].Display,
    };

    private static Quantity MmHg(decimal value) => new() { Value = value, Unit = "mmHg", System = Ucum, Code = "mm[Hg]" };
}

/// <summary>
/// What is true of a person wherever they are seen: usual blood pressure, BMI, when each condition began.
/// Seeded from the person alone, so every source's readings and dates agree with each other.
/// </summary>
internal sealed record PersonBaseline(int Systolic, int Diastolic, int HeartRate, int OxygenSaturation, decimal BodyMassIndex, int HbA1c, int Egfr, DateOnly AllergyOnset, IReadOnlyDictionary<string, DateOnly> Onsets)
{
    public static PersonBaseline For(SyntheticPerson person)
    {
        var random = new Random((person.Index * 104_729) + 11);
        bool Has(LongTermCondition c) => person.ConditionCodes.Contains(c.Code.Code);

        var onsets = new Dictionary<string, DateOnly>();
        var today = SyntheticPopulation.ReferenceDate;
        foreach (var code in person.ConditionCodes)
        {
            var condition = ClinicalCatalogue.ConditionFor(code);
            var earliest = person.BirthDate.AddYears(condition.MinimumAge);
            var yearsAgo = random.Next(1, 13);
            var onset = today.AddYears(-yearsAgo).AddDays(-random.Next(0, 365));
            onsets[code] = onset < earliest ? earliest.AddDays(random.Next(0, 200)) : onset;
        }

        var allergyOnset = person.BirthDate.AddYears(Math.Min(person.AgeOn(today) / 2, 20)).AddDays(random.Next(0, 365));
        return new PersonBaseline(
            Systolic: Has(ClinicalCatalogue.Hypertension) ? random.Next(138, 152) : random.Next(112, 132),
            Diastolic: Has(ClinicalCatalogue.Hypertension) ? random.Next(84, 94) : random.Next(68, 82),
            HeartRate: Has(ClinicalCatalogue.AtrialFibrillation) ? random.Next(82, 100) : random.Next(62, 80),
            OxygenSaturation: Has(ClinicalCatalogue.Copd) || Has(ClinicalCatalogue.HeartFailure) ? random.Next(91, 95) : random.Next(96, 100),
            BodyMassIndex: Math.Round(21m + (random.Next(0, 130) / 10m), 1),
            HbA1c: Has(ClinicalCatalogue.Type2Diabetes) ? random.Next(52, 72) : random.Next(34, 41),
            Egfr: Has(ClinicalCatalogue.ChronicKidneyDisease) ? random.Next(35, 55) : random.Next(72, 96),
            AllergyOnset: allergyOnset,
            Onsets: onsets);
    }
}
