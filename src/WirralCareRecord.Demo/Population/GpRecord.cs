using System.Globalization;
using System.Text;
using Hl7.Fhir.Model;

namespace WirralCareRecord.Demo.Population;

/// <summary>
/// A GP practice's record: the richest of the four. Problems, allergies, repeat medicines and their issues,
/// consultations with their measurements, immunisations, reviews, and letters received from the hospital.
/// A practice the person has left keeps the record up to the day they moved, with nothing active.
/// </summary>
internal static class GpRecord
{
    private static readonly string[] RiversideClinicians = ["Dr S Patel", "Dr J McGovern", "Dr R Okafor", "Nurse L Harding"];
    private static readonly string[] HoylakeRoadClinicians = ["Dr H Lewis", "Dr M Chaudhry", "Dr C Byrne", "Nurse A Power"];

    public static void Write(PatientChart chart, int multiplier)
    {
        var person = chart.Person;
        var current = person.RegisteredGpOdsCode == chart.Source.OdsCode;
        var to = current ? SyntheticPopulation.ReferenceDate : person.MovedPracticeOn!.Value;
        var from = to.AddYears(-multiplier);
        if (current && person.MovedPracticeOn is DateOnly moved && moved > from)
        {
            from = moved;
        }

        var clinicians = chart.Source.OdsCode == SyntheticPopulation.RiversideMedicalCentre.OdsCode ? RiversideClinicians : HoylakeRoadClinicians;
        var conditions = person.ConditionCodes.Select(ClinicalCatalogue.ConditionFor)
            .Where(c => chart.Baseline.Onsets[c.Code.Code] < to).ToList();
        var penicillinAllergic = person.AllergyCodes.Contains(ClinicalCatalogue.Penicillin.Code.Code);

        foreach (var allergy in person.AllergyCodes.Select(ClinicalCatalogue.AllergyFor))
        {
            chart.Allergy(allergy, chart.Baseline.AllergyOnset, chart.Baseline.AllergyOnset.AddDays(chart.Random.Next(1, 30)));
        }

        foreach (var condition in conditions)
        {
            var onset = chart.Baseline.Onsets[condition.Code.Code];
            DateOnly? resolved = condition == ClinicalCatalogue.MyocardialInfarction ? onset.AddDays(42) : null;
            chart.Condition(condition.Code, problemList: true, onset, onset.AddDays(chart.Random.Next(0, 15)), resolved);
        }

        WriteRepeatMedicines(chart, conditions, from, to, current, clinicians[0]);

        // Consultations, spread over the window; a shorter window (a recent move) has proportionally fewer.
        var windowFraction = (to.DayNumber - from.DayNumber) / (365.0 * multiplier);
        var consultationCount = Math.Max(3, (int)Math.Round((4 + (2 * conditions.Count)) * multiplier * windowFraction));
        var days = Enumerable.Range(0, consultationCount).Select(_ => chart.DayBetween(from, to)).Order().ToList();
        var acuteLeft = multiplier + chart.Random.Next(0, 2);
        var lastReviewYear = 0;
        for (var i = 0; i < days.Count; i++)
        {
            var at = chart.DaytimeOn(days[i]);
            var clinician = clinicians[chart.Random.Next(clinicians.Length)];
            var review = conditions.Count > 0 && days[i].Year != lastReviewYear && chart.Random.NextDouble() < 0.5;
            if (review)
            {
                lastReviewYear = days[i].Year;
                WriteAnnualReview(chart, conditions, at, clinician);
                continue;
            }

            if (i % 4 == 3)
            {
                var reason = conditions.Count > 0 ? conditions[i % conditions.Count].Code : null;
                chart.Encounter("AMB", ClinicalCatalogue.TelephoneConsultation, at, TimeSpan.FromMinutes(10), clinician, reason);
                continue;
            }

            if (acuteLeft > 0 && chart.Random.NextDouble() < 0.5)
            {
                acuteLeft--;
                var (illness, antibiotic) = ClinicalCatalogue.AcuteIllnesses[chart.Random.Next(ClinicalCatalogue.AcuteIllnesses.Count)];
                var visit = chart.Encounter("AMB", ClinicalCatalogue.ProblemConsultation, at, TimeSpan.FromMinutes(10), clinician, illness);
                chart.Condition(illness, problemList: false, days[i].AddDays(-chart.Random.Next(2, 8)), days[i], days[i].AddDays(10), visit);
                chart.Temperature(at, visit);

                // Penicillin allergy is why this patient gets no amoxicillin: the record should show that care.
                if (antibiotic && !penicillinAllergic)
                {
                    chart.Prescription(ClinicalCatalogue.Amoxicillin, at, active: false, repeat: false, "community", clinician, visit);
                }

                continue;
            }

            var problem = conditions.Count > 0 ? conditions[chart.Random.Next(conditions.Count)].Code : null;
            var consultation = chart.Encounter("AMB", ClinicalCatalogue.ProblemConsultation, at, TimeSpan.FromMinutes(10), clinician, problem);
            if (person.AgeOn(days[i]) >= 40 || conditions.Contains(ClinicalCatalogue.Hypertension))
            {
                chart.BloodPressure(at, consultation);
            }

            if (conditions.Contains(ClinicalCatalogue.AtrialFibrillation) || chart.Random.NextDouble() < 0.3)
            {
                chart.HeartRate(at, consultation);
            }
        }

        WriteImmunisations(chart, conditions, from, to);

        if (current && person.IsHeldBy(SyntheticPopulation.WirralUniversityTeachingHospital.OdsCode))
        {
            for (var i = 0; i < multiplier; i++)
            {
                var letterDay = chart.DayBetween(from, to);
                chart.Document(ClinicalCatalogue.ClinicLetter, "Outpatient clinic letter", ClinicLetterText(chart, conditions, letterDay),
                    PatientChart.At(letterDay, 14, 30), null, SyntheticPopulation.WirralUniversityTeachingHospital);
            }
        }
    }

    private static void WriteRepeatMedicines(PatientChart chart, List<LongTermCondition> conditions, DateOnly from, DateOnly to, bool current, string prescriber)
    {
        var medicines = conditions.SelectMany(c => c.Medicines.Select(m => (Medicine: m, Condition: c)))
            .DistinctBy(x => x.Medicine.Product.Code).ToList();
        foreach (var (medicine, condition) in medicines)
        {
            var started = chart.Baseline.Onsets[condition.Code.Code].AddDays(14);
            chart.MedicationStatement(medicine, started, current ? null : to, current ? to.AddDays(-chart.Random.Next(1, 60)) : to);

            // Repeats are issued every 84 days (12 weeks), the usual interval for stable long-term medicines.
            var issues = new List<DateOnly>();
            for (var day = Max(from, started).AddDays(chart.Random.Next(0, 84)); day < to; day = day.AddDays(84))
            {
                issues.Add(day);
            }

            for (var i = 0; i < issues.Count; i++)
            {
                chart.Prescription(medicine, PatientChart.At(issues[i], 11, 0), active: current && i == issues.Count - 1, repeat: true, "community", prescriber);
            }
        }
    }

    private static void WriteAnnualReview(PatientChart chart, List<LongTermCondition> conditions, DateTimeOffset at, string clinician)
    {
        var review = chart.Encounter("AMB", ClinicalCatalogue.CheckUp, at, TimeSpan.FromMinutes(20), clinician, conditions[0].Code, "Long-term condition review");
        chart.BloodPressure(at, review);
        chart.HeartRate(at, review);
        chart.BodyMassIndex(at, review);
        var diabetic = conditions.Contains(ClinicalCatalogue.Type2Diabetes);
        if (diabetic)
        {
            chart.HbA1c(at, review);
            chart.Procedure(ClinicalCatalogue.DiabeticFootExamination, at, review);
        }

        if (diabetic || conditions.Contains(ClinicalCatalogue.ChronicKidneyDisease) || conditions.Contains(ClinicalCatalogue.Hypertension))
        {
            chart.Egfr(at, review);
        }

        if (conditions.Contains(ClinicalCatalogue.AtrialFibrillation) || conditions.Contains(ClinicalCatalogue.HeartFailure))
        {
            chart.Procedure(ClinicalCatalogue.Electrocardiogram, at, review);
        }

        if (conditions.Any(c => c.Medicines.Count > 0))
        {
            chart.Procedure(ClinicalCatalogue.MedicationReview, at, review);
        }
    }

    /// <summary>The national programmes: flu for over-65s and people at clinical risk, COVID-19 boosters for over-75s, pneumococcal at 65, shingles at 70.</summary>
    private static void WriteImmunisations(PatientChart chart, List<LongTermCondition> conditions, DateOnly from, DateOnly to)
    {
        var person = chart.Person;
        var atRisk = conditions.Any(c => c == ClinicalCatalogue.Asthma || c == ClinicalCatalogue.Copd || c == ClinicalCatalogue.Type2Diabetes
            || c == ClinicalCatalogue.HeartFailure || c == ClinicalCatalogue.ChronicKidneyDisease);
        for (var year = from.Year; year <= to.Year; year++)
        {
            var fluDay = new DateOnly(year, 10, 1).AddDays(chart.Random.Next(0, 40));
            if (fluDay >= from && fluDay < to && (person.AgeOn(fluDay) >= 65 || atRisk))
            {
                chart.Immunization(ClinicalCatalogue.InfluenzaVaccine, PatientChart.At(fluDay, 9, 30), "FLU");
            }

            var covidDay = new DateOnly(year, 10, 10).AddDays(chart.Random.Next(0, 40));
            if (covidDay >= from && covidDay < to && person.AgeOn(covidDay) >= 75)
            {
                chart.Immunization(ClinicalCatalogue.CovidVaccine, PatientChart.At(covidDay, 10, 15), "CV");
            }
        }

        var pneumococcalDay = person.BirthDate.AddYears(65).AddDays(45);
        if (pneumococcalDay >= from && pneumococcalDay < to)
        {
            chart.Immunization(ClinicalCatalogue.PneumococcalVaccine, PatientChart.At(pneumococcalDay, 11, 0), "PN");
        }

        var shinglesDay = person.BirthDate.AddYears(70).AddDays(60);
        if (shinglesDay >= from && shinglesDay < to)
        {
            chart.Immunization(ClinicalCatalogue.ShinglesVaccine, PatientChart.At(shinglesDay, 11, 20), "SH");
        }
    }

    private static string ClinicLetterText(PatientChart chart, List<LongTermCondition> conditions, DateOnly day)
    {
        var person = chart.Person;
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Wirral University Teaching Hospital - outpatient clinic, {day:d MMMM yyyy}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Re: {person.DisplayName}, NHS number {person.NhsNumber}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Dear {chart.Source.Name},");
        text.AppendLine(conditions.Count == 0
            ? "I reviewed your patient in clinic today. Examination and investigations were reassuring and I have discharged them back to your care."
            : $"I reviewed your patient in clinic today. Conditions reviewed: {string.Join("; ", conditions.Select(c => c.Code.Display))}. They are stable on their current treatment; please continue the current medicines.");
        text.AppendLine("Yours sincerely,");
        text.AppendLine("Consultant Physician");
        return text.ToString();
    }

    private static DateOnly Max(DateOnly a, DateOnly b) => a > b ? a : b;
}
