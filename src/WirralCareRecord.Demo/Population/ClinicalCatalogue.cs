using Hl7.Fhir.Model;

namespace WirralCareRecord.Demo.Population;

/// <summary>A coded concept from one of the terminologies the synthetic records use.</summary>
internal sealed record Concept(string System, string Code, string Display)
{
    public const string Snomed = "http://snomed.info/sct";
    public const string Loinc = "http://loinc.org";

    // dm+d is the NHS's medicines terminology; NHS England FHIR APIs identify it with this system.
    public const string Dmd = "https://dmd.nhs.uk";

    public Coding ToCoding() => new(System, Code, Display);

    public CodeableConcept ToCodeableConcept() => new(System, Code, Display, Display);
}

/// <summary>A medicine as a GP would prescribe it: product, dosage text and the usual quantity per issue.</summary>
internal sealed record Medicine(Concept Product, string Dosage, int Quantity, string QuantityUnit);

/// <summary>A long-term condition, what is prescribed for it, and who is likely to have it.</summary>
/// <param name="MinimumAge">Nobody younger is given the condition.</param>
/// <param name="Weight">Relative chance of being picked among conditions open to the person's age.</param>
internal sealed record LongTermCondition(Concept Code, int MinimumAge, int Weight, IReadOnlyList<Medicine> Medicines);

/// <summary>An allergy with its usual reaction.</summary>
internal sealed record AllergyKind(
    Concept Code,
    AllergyIntolerance.AllergyIntoleranceCategory Category,
    AllergyIntolerance.AllergyIntoleranceCriticality Criticality,
    Concept Manifestation,
    AllergyIntolerance.AllergyIntoleranceSeverity Severity);

/// <summary>
/// The codes the synthetic records are built from. SNOMED CT and LOINC codes are the published concepts named.
/// The dm+d codes are VMP identifiers as best known without a dm+d release to hand (none is reachable from where
/// this was written): the display text is the VMP name and is what matters to the demo; check the codes in the
/// dm+d browser before using these records for anything but a demonstration.
/// </summary>
internal static class ClinicalCatalogue
{
    private static Concept Sct(string code, string display) => new(Concept.Snomed, code, display);

    private static Concept Dmd(string code, string display) => new(Concept.Dmd, code, display);

    private static Medicine Tablets(string code, string display, string dosage, int quantity = 56) =>
        new(Dmd(code, display), dosage, quantity, "tablet");

    public static readonly Medicine Paracetamol = Tablets("322236009", "Paracetamol 500mg tablets", "Two tablets up to four times a day when required for pain", 100);
    public static readonly Medicine Metformin = Tablets("325278007", "Metformin 500mg tablets", "One tablet twice a day with meals", 112);
    public static readonly Medicine Amlodipine = Tablets("319283006", "Amlodipine 5mg tablets", "One tablet once a day", 28);
    public static readonly Medicine Atorvastatin = Tablets("320000009", "Atorvastatin 20mg tablets", "One tablet at night", 28);
    public static readonly Medicine Bisoprolol = Tablets("318590006", "Bisoprolol 2.5mg tablets", "One tablet once a day", 28);
    public static readonly Medicine Apixaban = Tablets("703907003", "Apixaban 5mg tablets", "One tablet twice a day", 56);
    public static readonly Medicine Furosemide = Tablets("317972000", "Furosemide 40mg tablets", "One tablet each morning", 28);
    public static readonly Medicine Sertraline = Tablets("321949007", "Sertraline 50mg tablets", "One tablet once a day", 28);
    public static readonly Medicine Methotrexate = Tablets("325447003", "Methotrexate 2.5mg tablets", "Four tablets once a week on the same day each week", 16);
    public static readonly Medicine Amoxicillin = new(Dmd("323509004", "Amoxicillin 500mg capsules"), "One capsule three times a day for 5 days", 15, "capsule");
    public static readonly Medicine Salbutamol = new(Dmd("320176004", "Salbutamol 100micrograms/dose inhaler CFC free"), "Two puffs up to four times a day when required", 1, "inhaler");

    public static readonly LongTermCondition Type2Diabetes = new(Sct("44054006", "Type 2 diabetes mellitus"), 35, 5, [Metformin, Atorvastatin]);
    public static readonly LongTermCondition Hypertension = new(Sct("38341003", "Hypertensive disorder"), 35, 8, [Amlodipine]);
    public static readonly LongTermCondition Asthma = new(Sct("195967001", "Asthma"), 5, 5, [Salbutamol]);
    public static readonly LongTermCondition Copd = new(Sct("13645005", "Chronic obstructive lung disease"), 50, 4, [Salbutamol]);
    public static readonly LongTermCondition AtrialFibrillation = new(Sct("49436004", "Atrial fibrillation"), 55, 4, [Bisoprolol, Apixaban]);
    public static readonly LongTermCondition Depression = new(Sct("35489007", "Depressive disorder"), 16, 5, [Sertraline]);
    public static readonly LongTermCondition RheumatoidArthritis = new(Sct("69896004", "Rheumatoid arthritis"), 30, 2, [Methotrexate, Paracetamol]);
    public static readonly LongTermCondition ChronicKidneyDisease = new(Sct("709044004", "Chronic kidney disease"), 55, 3, []);
    public static readonly LongTermCondition HeartFailure = new(Sct("84114007", "Heart failure"), 60, 3, [Furosemide, Bisoprolol]);
    public static readonly LongTermCondition MyocardialInfarction = new(Sct("22298006", "Myocardial infarction"), 50, 2, [Atorvastatin]);
    public static readonly LongTermCondition Hyperlipidaemia = new(Sct("55822004", "Hyperlipidaemia"), 40, 4, [Atorvastatin]);
    public static readonly LongTermCondition KneeOsteoarthritis = new(Sct("239873007", "Osteoarthritis of knee"), 50, 4, [Paracetamol]);

    public static readonly IReadOnlyList<LongTermCondition> Conditions =
    [
        Type2Diabetes, Hypertension, Asthma, Copd, AtrialFibrillation, Depression, RheumatoidArthritis,
        ChronicKidneyDisease, HeartFailure, MyocardialInfarction, Hyperlipidaemia, KneeOsteoarthritis,
    ];

    /// <summary>Short illnesses a GP sees and resolves; each gets a consultation and sometimes an antibiotic.</summary>
    public static readonly IReadOnlyList<(Concept Code, bool Antibiotic)> AcuteIllnesses =
    [
        (Sct("444814009", "Viral sinusitis"), false),
        (Sct("10509002", "Acute bronchitis"), true),
        (Sct("195662009", "Acute viral pharyngitis"), false),
    ];

    public static readonly AllergyKind Penicillin = new(
        Sct("91936005", "Allergy to penicillin"), AllergyIntolerance.AllergyIntoleranceCategory.Medication,
        AllergyIntolerance.AllergyIntoleranceCriticality.High, Sct("271807003", "Eruption of skin"), AllergyIntolerance.AllergyIntoleranceSeverity.Moderate);

    public static readonly IReadOnlyList<AllergyKind> Allergies =
    [
        Penicillin,
        new(Sct("300916003", "Latex allergy"), AllergyIntolerance.AllergyIntoleranceCategory.Environment,
            AllergyIntolerance.AllergyIntoleranceCriticality.Low, Sct("247472004", "Weal"), AllergyIntolerance.AllergyIntoleranceSeverity.Mild),
        new(Sct("91935009", "Allergy to peanuts"), AllergyIntolerance.AllergyIntoleranceCategory.Food,
            AllergyIntolerance.AllergyIntoleranceCriticality.High, Sct("39579001", "Anaphylaxis"), AllergyIntolerance.AllergyIntoleranceSeverity.Severe),
        new(Sct("418689008", "Allergy to grass pollen"), AllergyIntolerance.AllergyIntoleranceCategory.Environment,
            AllergyIntolerance.AllergyIntoleranceCriticality.Low, Sct("267036007", "Dyspnoea"), AllergyIntolerance.AllergyIntoleranceSeverity.Mild),
    ];

    public static LongTermCondition ConditionFor(string code) => Conditions.Single(c => c.Code.Code == code);

    public static AllergyKind AllergyFor(string code) => Allergies.Single(a => a.Code.Code == code);

    // Encounter types.
    public static readonly Concept ProblemConsultation = Sct("185347001", "Encounter for problem");
    public static readonly Concept CheckUp = Sct("185349003", "Encounter for check up");
    public static readonly Concept TelephoneConsultation = Sct("185317003", "Telephone encounter");
    public static readonly Concept EmergencyVisit = Sct("4525004", "Emergency department patient visit");
    public static readonly Concept HospitalAdmission = Sct("32485007", "Hospital admission");
    public static readonly Concept FollowUpVisit = Sct("185389009", "Follow-up visit");
    public static readonly Concept HomeVisit = Sct("439708006", "Home visit");

    // Why people come to the emergency department.
    public static readonly Concept ChestPain = Sct("29857009", "Chest pain");
    public static readonly Concept Fall = Sct("217082002", "Accidental fall");
    public static readonly Concept Breathlessness = Sct("267036007", "Dyspnoea");
    public static readonly Concept ForearmLaceration = Sct("283371005", "Laceration of forearm");
    public static readonly Concept Pneumonia = Sct("233604007", "Pneumonia");

    // Procedures.
    public static readonly Concept Electrocardiogram = Sct("29303009", "Electrocardiographic procedure");
    public static readonly Concept ChestXray = Sct("399208008", "Plain chest X-ray");
    public static readonly Concept CoronaryIntervention = Sct("415070008", "Percutaneous coronary intervention");
    public static readonly Concept MedicationReview = Sct("182836005", "Review of medication");
    public static readonly Concept WoundCare = Sct("225358003", "Wound care");
    public static readonly Concept DiabeticFootExamination = Sct("401191002", "Diabetic foot examination");
    public static readonly Concept SutureOfWound = Sct("288086009", "Suture of open wound");

    // Vaccines.
    public static readonly Concept InfluenzaVaccine = Sct("1181000221105", "Influenza virus antigen only vaccine product");
    public static readonly Concept CovidVaccine = Sct("1119349007", "Vaccine product containing only SARS-CoV-2 mRNA antigen");
    public static readonly Concept PneumococcalVaccine = Sct("836398006", "Vaccine product containing Streptococcus pneumoniae antigen");
    public static readonly Concept ShinglesVaccine = Sct("836495005", "Vaccine product containing only Human alphaherpesvirus 3 antigen");

    // Document types.
    public static readonly Concept DischargeSummary = Sct("373942005", "Discharge summary");
    public static readonly Concept ClinicLetter = Sct("371531000", "Report of clinic encounter");
    public static readonly Concept CarePlan = Sct("734163000", "Care plan");
}
