using Hl7.Fhir.Model;

namespace WirralCareRecord.Demo.Population;

/// <summary>Which of the gateway's safety behaviours a synthetic person is there to show; most people show none.</summary>
public enum DemoHardCase
{
    None,

    /// <summary>Held by N85001, RBL and RY7; RBL's Patient has another date of birth, so RBL's data must be left out.</summary>
    BirthDateDiffersAtHospital,

    /// <summary>Held by N85001 and RBL; the registry records their objection to sharing, so the record must be refused.</summary>
    ObjectedToSharing,

    /// <summary>Held by N85001 and RBL; the GP record has a Condition and a letter labelled restricted, which must be withheld.</summary>
    RestrictedItems,

    /// <summary>Held by N85002 and RBL; RBL's search finds only a retired Patient whose link names the Patient the record is about.</summary>
    MergedAtHospital,
}

/// <summary>
/// Four extra people, after the ordinary population, whose records are wrong or sensitive in the ways the gateway must
/// handle safely. Their NHS numbers continue the test-range sequence, so the ordinary people's numbers never change.
/// Each is an ordinary person of that position in the sequence with where their records are held fixed, then given
/// the one thing that makes them a hard case; everything stays deterministic.
/// </summary>
internal static class HardCases
{
    /// <summary>Shown beside the person in the demo's console.</summary>
    public static string Note(DemoHardCase hardCase) => hardCase switch
    {
        DemoHardCase.BirthDateDiffersAtHospital => "date of birth differs at RBL",
        DemoHardCase.ObjectedToSharing => "has objected to sharing",
        DemoHardCase.RestrictedItems => "has a restricted item",
        DemoHardCase.MergedAtHospital => "merged record at RBL",
        _ => "",
    };

    /// <summary>The four hard cases, numbered on from the <paramref name="ordinaryCount"/> ordinary people.</summary>
    public static IReadOnlyList<SyntheticPerson> Create(int ordinaryCount)
    {
        var riverside = SyntheticPopulation.RiversideMedicalCentre.OdsCode;
        var hoylake = SyntheticPopulation.HoylakeRoadSurgery.OdsCode;
        var hospital = SyntheticPopulation.WirralUniversityTeachingHospital.OdsCode;
        var community = SyntheticPopulation.WirralCommunityHealthAndCare.OdsCode;
        (DemoHardCase Case, string Registered, string[] HeldBy)[] cases =
        [
            (DemoHardCase.BirthDateDiffersAtHospital, riverside, [riverside, hospital, community]),
            (DemoHardCase.ObjectedToSharing, riverside, [riverside, hospital]),
            (DemoHardCase.RestrictedItems, riverside, [riverside, hospital]),
            (DemoHardCase.MergedAtHospital, hoylake, [hoylake, hospital]),
        ];

        var numbers = NhsNumber.TestRange(ordinaryCount + cases.Length);
        return [.. cases.Select((c, i) =>
        {
            var index = ordinaryCount + i;
            var person = PersonFactory.Create(index, numbers[index]);
            return person with
            {
                RegisteredGpOdsCode = c.Registered,
                PreviousGpOdsCode = null,
                MovedPracticeOn = null,
                HeldBy = c.HeldBy,

                // The restricted depression diagnosis is the only trace of it: no open problem or antidepressant gives it away.
                ConditionCodes = c.Case == DemoHardCase.RestrictedItems
                    ? [.. person.ConditionCodes.Where(code => code != ClinicalCatalogue.Depression.Code.Code)]
                    : person.ConditionCodes,
                HardCase = c.Case,
            };
        })];
    }

    /// <summary>
    /// The date of birth <paramref name="source"/> holds for <paramref name="person"/>. For the conflicting case the
    /// hospital keyed the day wrong (ten days out, same month and year); everywhere else it is the true date.
    /// </summary>
    public static DateOnly BirthDateHeldBy(SyntheticPerson person, DemoOrganisation source)
    {
        if (person.HardCase != DemoHardCase.BirthDateDiffersAtHospital || source != SyntheticPopulation.WirralUniversityTeachingHospital)
        {
            return person.BirthDate;
        }

        var born = person.BirthDate;
        return born.Day <= 18 ? born.AddDays(10) : born.AddDays(-10);
    }

    /// <summary>Adds what makes the person a hard case at this source, once their ordinary record is written.</summary>
    public static void Complete(PatientChart chart)
    {
        switch (chart.Person.HardCase)
        {
            case DemoHardCase.RestrictedItems when chart.Source.Kind == Gateway.Onboarding.OrganisationKind.GpPractice:
                AddRestrictedItems(chart);
                break;
            case DemoHardCase.MergedAtHospital when chart.Source == SyntheticPopulation.WirralUniversityTeachingHospital:
                AddRetiredPatient(chart);
                break;
        }
    }

    /// <summary>A depression diagnosis and the referral letter about it, both labelled restricted (v3-Confidentiality R).</summary>
    private static void AddRestrictedItems(PatientChart chart)
    {
        var diagnosed = SyntheticPopulation.ReferenceDate.AddYears(-2).AddDays(-47);
        var condition = chart.Condition(ClinicalCatalogue.Depression.Code, problemList: true, diagnosed, diagnosed);
        condition.Meta = Restricted();

        var person = chart.Person;
        var letter = $"""
            {chart.Source.Name} - referral to NHS Talking Therapies, {diagnosed:d MMMM yyyy}
            Patient: {person.DisplayName}, NHS number {person.NhsNumber}
            Low mood for three months with poor sleep. PHQ-9 16. No thoughts of self-harm. Declines medication; would like talking therapy.
            The patient asked that this is not shared beyond the practice.
            Dr S Patel
            """;
        var document = chart.Document(ClinicalCatalogue.ClinicLetter, "Referral to NHS Talking Therapies", letter, PatientChart.At(diagnosed, 15, 10), null, chart.Source);
        document.Meta = Restricted();
    }

    private static Meta Restricted() => new()
    {
        Security = [new Coding(Gateway.PatientMatching.RecordSafety.ConfidentialitySystem, "R", "restricted")],
    };

    /// <summary>
    /// The Patient the hospital retired when it merged a duplicate registration into the one the record is about.
    /// It keeps the NHS number and points on with a replaced-by link; the source's identifier search still finds only
    /// it (its index was not updated after the merge), so a client must follow the link.
    /// </summary>
    private static void AddRetiredPatient(PatientChart chart)
    {
        var current = chart.Patient;
        var retired = chart.AddPatient(id => PatientFactory.Create(chart.Person, id, chart.Source));
        retired.Active = false;
        retired.Link = [new Patient.LinkComponent { Other = new ResourceReference($"Patient/{current.Id}"), Type = Patient.LinkType.ReplacedBy }];

        current.Active = true;
        current.Link = [new Patient.LinkComponent { Other = new ResourceReference($"Patient/{retired.Id}"), Type = Patient.LinkType.Replaces }];
        current.AddAnnotation(NotFoundByIdentifierSearch.Instance);
    }
}

/// <summary>
/// Marks a Patient a demo source can read by id but leaves out of its identifier search results, as a source whose
/// search index was not updated after a merge does. An annotation: the SDK never serialises it.
/// </summary>
internal sealed class NotFoundByIdentifierSearch
{
    private NotFoundByIdentifierSearch()
    {
    }

    public static NotFoundByIdentifierSearch Instance { get; } = new();
}
