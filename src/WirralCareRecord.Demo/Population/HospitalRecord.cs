using System.Globalization;
using System.Text;
using Hl7.Fhir.Model;

namespace WirralCareRecord.Demo.Population;

/// <summary>
/// The acute trust's record: emergency department attendances, admissions with their discharge summaries,
/// and outpatient clinics, each with the observations, diagnoses, procedures and medicines of that episode.
/// </summary>
internal static class HospitalRecord
{
    private static readonly string[] EmergencyClinicians = ["Dr E Hughes", "Dr T Adeyemi", "Dr F O'Neill"];

    public static void Write(PatientChart chart, int multiplier)
    {
        var person = chart.Person;
        var to = SyntheticPopulation.ReferenceDate;
        var from = to.AddYears(-2 * multiplier);
        var conditions = person.ConditionCodes.Select(ClinicalCatalogue.ConditionFor).ToList();
        var visitor = person.RegisteredGpOdsCode == SyntheticPopulation.OutOfAreaPractice.OdsCode;

        // What the hospital knows of the person's history: taken at the first contact, from the GP summary.
        var firstContact = from.AddDays(chart.Random.Next(0, 60));
        foreach (var allergy in person.AllergyCodes.Select(ClinicalCatalogue.AllergyFor))
        {
            chart.Allergy(allergy, chart.Baseline.AllergyOnset, firstContact);
        }

        foreach (var condition in conditions.Where(c => c != ClinicalCatalogue.MyocardialInfarction))
        {
            var onset = chart.Baseline.Onsets[condition.Code.Code];
            chart.Condition(condition.Code, problemList: true, onset, onset > firstContact ? onset : firstContact);
        }

        if (conditions.Contains(ClinicalCatalogue.MyocardialInfarction))
        {
            WriteInfarction(chart, chart.Baseline.Onsets[ClinicalCatalogue.MyocardialInfarction.Code.Code], conditions);
        }

        var episodes = (1 + (conditions.Count / 2)) * multiplier;
        var days = Enumerable.Range(0, episodes).Select(_ => chart.DayBetween(firstContact, to)).Order().ToList();
        for (var i = 0; i < days.Count; i++)
        {
            var day = days[i];
            var roll = chart.Random.NextDouble();

            // The person the demo's curl fetches always has an admission, so the demo shows a discharge summary.
            if (person.Index == 0 && i == 0)
            {
                WriteAdmission(chart, conditions, day);
            }
            else if (visitor || roll < 0.45 || conditions.Count == 0)
            {
                WriteEmergencyAttendance(chart, conditions, day);
            }
            else if (roll < 0.7 && person.AgeOn(day) >= 50)
            {
                WriteAdmission(chart, conditions, day);
            }
            else
            {
                WriteClinic(chart, conditions, day);
            }
        }
    }

    private static void WriteEmergencyAttendance(PatientChart chart, List<LongTermCondition> conditions, DateOnly day)
    {
        var age = chart.Person.AgeOn(day);
        var cardiac = conditions.Any(c => c == ClinicalCatalogue.AtrialFibrillation || c == ClinicalCatalogue.HeartFailure || c == ClinicalCatalogue.MyocardialInfarction);
        var respiratory = conditions.Any(c => c == ClinicalCatalogue.Asthma || c == ClinicalCatalogue.Copd);
        var complaint = chart.Random.Next(4) switch
        {
            0 when cardiac || age >= 45 => ClinicalCatalogue.ChestPain,
            1 when age >= 70 => ClinicalCatalogue.Fall,
            2 when respiratory || cardiac => ClinicalCatalogue.Breathlessness,
            _ => ClinicalCatalogue.ForearmLaceration,
        };

        var arrived = PatientChart.At(day, chart.Random.Next(0, 24), chart.Random.Next(0, 60));
        var attendance = chart.Encounter("EMER", ClinicalCatalogue.EmergencyVisit, arrived, TimeSpan.FromMinutes(chart.Random.Next(150, 420)),
            EmergencyClinicians[chart.Random.Next(EmergencyClinicians.Length)], complaint, "Emergency department");
        var triage = arrived.AddMinutes(15);
        chart.BloodPressure(triage, attendance);
        chart.HeartRate(triage, attendance);
        chart.RespiratoryRate(triage, attendance);
        chart.OxygenSaturation(triage, attendance);
        chart.Temperature(triage, attendance);

        var seen = arrived.AddMinutes(chart.Random.Next(60, 150));
        if (complaint == ClinicalCatalogue.ChestPain)
        {
            chart.Procedure(ClinicalCatalogue.Electrocardiogram, triage.AddMinutes(5), attendance);
        }
        else if (complaint == ClinicalCatalogue.Breathlessness)
        {
            chart.Procedure(ClinicalCatalogue.ChestXray, seen, attendance);
        }
        else if (complaint == ClinicalCatalogue.ForearmLaceration)
        {
            chart.Procedure(ClinicalCatalogue.SutureOfWound, seen, attendance);
        }

        chart.Condition(complaint, problemList: false, day, day, day.AddDays(1), attendance);
    }

    private static void WriteAdmission(PatientChart chart, List<LongTermCondition> conditions, DateOnly day)
    {
        // Admissions are for the exacerbations that fill medical wards, or pneumonia.
        var exacerbation = conditions.FirstOrDefault(c => c == ClinicalCatalogue.HeartFailure || c == ClinicalCatalogue.Copd || c == ClinicalCatalogue.Asthma || c == ClinicalCatalogue.AtrialFibrillation);
        var diagnosis = exacerbation?.Code ?? ClinicalCatalogue.Pneumonia;
        var admitted = PatientChart.At(day, chart.Random.Next(10, 23), chart.Random.Next(0, 60));
        var stay = TimeSpan.FromDays(chart.Random.Next(2, 9)) + TimeSpan.FromHours(chart.Random.Next(0, 6));
        var consultant = chart.Random.Next(2) == 0 ? "Dr K Brennan" : "Dr P Ramasamy";
        var admission = chart.Encounter("IMP", ClinicalCatalogue.HospitalAdmission, admitted, stay, consultant, diagnosis, "General medicine");

        chart.Condition(diagnosis, problemList: false, day.AddDays(-chart.Random.Next(1, 4)), day,
            exacerbation is null ? DateOnly.FromDateTime((admitted + stay).UtcDateTime) : null, admission);

        for (var d = 0; d < Math.Min(3, stay.Days); d++)
        {
            var round = admitted.AddDays(d).AddHours(2);
            chart.BloodPressure(round, admission);
            chart.HeartRate(round, admission);
            chart.RespiratoryRate(round, admission);
            chart.OxygenSaturation(round, admission);
            chart.Temperature(round, admission);
        }

        chart.Egfr(admitted.AddHours(1), admission);
        chart.Procedure(ClinicalCatalogue.ChestXray, admitted.AddHours(3), admission);
        if (diagnosis == ClinicalCatalogue.Pneumonia && !chart.Person.AllergyCodes.Contains(ClinicalCatalogue.Penicillin.Code.Code))
        {
            chart.Prescription(ClinicalCatalogue.Amoxicillin, admitted.AddHours(2), active: false, repeat: false, "inpatient", consultant, admission);
        }

        var discharged = admitted + stay;
        var medicines = conditions.SelectMany(c => c.Medicines).DistinctBy(m => m.Product.Code).ToList();
        foreach (var medicine in medicines)
        {
            chart.Prescription(medicine, discharged.AddHours(-3), active: false, repeat: false, "discharge", consultant, admission);
        }

        chart.Document(ClinicalCatalogue.DischargeSummary, "Discharge summary", DischargeSummaryText(chart, diagnosis, admitted, discharged, medicines, consultant),
            discharged, admission, chart.Source);
    }

    private static void WriteInfarction(PatientChart chart, DateOnly onset, List<LongTermCondition> conditions)
    {
        var admitted = PatientChart.At(onset, chart.Random.Next(0, 24), chart.Random.Next(0, 60));
        var stay = TimeSpan.FromDays(chart.Random.Next(3, 7));
        var admission = chart.Encounter("IMP", ClinicalCatalogue.HospitalAdmission, admitted, stay, "Dr K Brennan", ClinicalCatalogue.MyocardialInfarction.Code, "Cardiology");
        chart.Condition(ClinicalCatalogue.MyocardialInfarction.Code, problemList: false, onset, onset, onset.AddDays(42), admission);
        chart.Procedure(ClinicalCatalogue.Electrocardiogram, admitted.AddMinutes(10), admission);
        chart.Procedure(ClinicalCatalogue.CoronaryIntervention, admitted.AddHours(2), admission);
        chart.BloodPressure(admitted.AddMinutes(5), admission);
        chart.HeartRate(admitted.AddMinutes(5), admission);
        var medicines = conditions.SelectMany(c => c.Medicines).DistinctBy(m => m.Product.Code).ToList();
        foreach (var medicine in medicines)
        {
            chart.Prescription(medicine, admitted + stay, active: false, repeat: false, "discharge", "Dr K Brennan", admission);
        }

        chart.Document(ClinicalCatalogue.DischargeSummary, "Discharge summary", DischargeSummaryText(chart, ClinicalCatalogue.MyocardialInfarction.Code, admitted, admitted + stay, medicines, "Dr K Brennan"),
            admitted + stay, admission, chart.Source);
    }

    private static void WriteClinic(PatientChart chart, List<LongTermCondition> conditions, DateOnly day)
    {
        var condition = conditions[chart.Random.Next(conditions.Count)];
        var clinic = condition switch
        {
            _ when condition == ClinicalCatalogue.Type2Diabetes => "Diabetes and endocrinology",
            _ when condition == ClinicalCatalogue.RheumatoidArthritis => "Rheumatology",
            _ when condition == ClinicalCatalogue.ChronicKidneyDisease => "Renal medicine",
            _ when condition == ClinicalCatalogue.Asthma || condition == ClinicalCatalogue.Copd => "Respiratory medicine",
            _ when condition == ClinicalCatalogue.KneeOsteoarthritis => "Trauma and orthopaedics",
            _ when condition == ClinicalCatalogue.Depression => "Liaison psychiatry",
            _ => "Cardiology",
        };
        var at = chart.DaytimeOn(day);
        var visit = chart.Encounter("AMB", ClinicalCatalogue.FollowUpVisit, at, TimeSpan.FromMinutes(20), "Dr N Whitfield", condition.Code, clinic);
        chart.BloodPressure(at, visit);
        if (condition == ClinicalCatalogue.Type2Diabetes)
        {
            chart.HbA1c(at, visit);
        }

        if (condition == ClinicalCatalogue.ChronicKidneyDisease)
        {
            chart.Egfr(at, visit);
        }

        var letter = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"{clinic} clinic, {day:d MMMM yyyy}")
            .AppendLine(CultureInfo.InvariantCulture, $"Patient: {chart.Person.DisplayName}, NHS number {chart.Person.NhsNumber}")
            .AppendLine(CultureInfo.InvariantCulture, $"Diagnosis: {condition.Code.Display}")
            .AppendLine("Stable. Continue current treatment. Review in clinic in six months.")
            .AppendLine("Dr N Whitfield, Consultant")
            .ToString();
        chart.Document(ClinicalCatalogue.ClinicLetter, $"{clinic} clinic letter", letter, at.AddDays(3), visit, chart.Source);
    }

    private static string DischargeSummaryText(PatientChart chart, Concept diagnosis, DateTimeOffset admitted, DateTimeOffset discharged, List<Medicine> medicines, string consultant)
    {
        var person = chart.Person;
        var text = new StringBuilder()
            .AppendLine("Wirral University Teaching Hospital - discharge summary")
            .AppendLine(CultureInfo.InvariantCulture, $"Patient: {person.DisplayName}, NHS number {person.NhsNumber}, born {HardCases.BirthDateHeldBy(person, chart.Source):d MMMM yyyy}")
            .AppendLine(CultureInfo.InvariantCulture, $"Admitted {admitted:d MMMM yyyy}, discharged {discharged:d MMMM yyyy} under {consultant}")
            .AppendLine(CultureInfo.InvariantCulture, $"Primary diagnosis: {diagnosis.Display}")
            .AppendLine(CultureInfo.InvariantCulture, $"Allergies: {(person.AllergyCodes.Count == 0 ? "No known drug allergies" : string.Join("; ", person.AllergyCodes.Select(c => ClinicalCatalogue.AllergyFor(c).Code.Display)))}")
            .AppendLine("Medicines on discharge:");
        foreach (var medicine in medicines)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {medicine.Product.Display}: {medicine.Dosage}");
        }

        text.AppendLine("Follow-up: GP review within two weeks.");
        return text.ToString();
    }
}
