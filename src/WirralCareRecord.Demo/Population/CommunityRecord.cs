using System.Globalization;
using System.Text;

namespace WirralCareRecord.Demo.Population;

/// <summary>
/// The community trust's record: district nurse home visits for housebound people with long-term conditions,
/// the observations and care given at each, and the care plan the team works to.
/// </summary>
internal static class CommunityRecord
{
    private static readonly string[] Nurses = ["District Nurse K Morris", "District Nurse B Flanagan", "Community Matron D Shaw"];

    public static void Write(PatientChart chart, int multiplier)
    {
        var person = chart.Person;
        var to = SyntheticPopulation.ReferenceDate;
        var from = to.AddYears(-multiplier);
        var conditions = person.ConditionCodes.Select(ClinicalCatalogue.ConditionFor).ToList();
        var referred = from.AddDays(chart.Random.Next(0, 30));

        foreach (var allergy in person.AllergyCodes.Select(ClinicalCatalogue.AllergyFor))
        {
            chart.Allergy(allergy, chart.Baseline.AllergyOnset, referred);
        }

        foreach (var condition in conditions)
        {
            var onset = chart.Baseline.Onsets[condition.Code.Code];
            chart.Condition(condition.Code, problemList: true, onset, onset > referred ? onset : referred);
        }

        var planAt = PatientChart.At(referred, 10, 0);
        var firstVisit = chart.Encounter("HH", ClinicalCatalogue.HomeVisit, planAt, TimeSpan.FromMinutes(45), Nurses[2], conditions.FirstOrDefault()?.Code, "District nursing");
        chart.Document(ClinicalCatalogue.CarePlan, "District nursing care plan", CarePlanText(chart, conditions, referred), planAt.AddHours(2), firstVisit, chart.Source);

        var visits = (4 + conditions.Count) * multiplier;
        var days = Enumerable.Range(0, visits).Select(_ => chart.DayBetween(referred.AddDays(1), to)).Order().ToList();
        var diabetic = conditions.Contains(ClinicalCatalogue.Type2Diabetes);
        var breathless = conditions.Contains(ClinicalCatalogue.Copd) || conditions.Contains(ClinicalCatalogue.HeartFailure);
        for (var i = 0; i < days.Count; i++)
        {
            var at = chart.DaytimeOn(days[i]);
            var reason = conditions.Count > 0 ? conditions[i % conditions.Count].Code : null;
            var visit = chart.Encounter("HH", ClinicalCatalogue.HomeVisit, at, TimeSpan.FromMinutes(chart.Random.Next(20, 50)), Nurses[chart.Random.Next(Nurses.Length)], reason, "District nursing");
            if (chart.Random.NextDouble() < 0.6)
            {
                chart.BloodPressure(at, visit);
            }

            if (chart.Random.NextDouble() < 0.4)
            {
                chart.HeartRate(at, visit);
            }

            if (breathless)
            {
                chart.OxygenSaturation(at, visit);
            }

            if (diabetic && i % 4 == 0)
            {
                chart.Procedure(ClinicalCatalogue.DiabeticFootExamination, at, visit);
            }

            if (chart.Random.NextDouble() < 0.3)
            {
                chart.Procedure(ClinicalCatalogue.WoundCare, at, visit);
            }
        }
    }

    private static string CarePlanText(PatientChart chart, List<LongTermCondition> conditions, DateOnly day)
    {
        var text = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"Wirral Community Health and Care - district nursing care plan, {day:d MMMM yyyy}")
            .AppendLine(CultureInfo.InvariantCulture, $"Patient: {chart.Person.DisplayName}, NHS number {chart.Person.NhsNumber}")
            .AppendLine(CultureInfo.InvariantCulture, $"Long-term conditions: {(conditions.Count == 0 ? "none recorded" : string.Join("; ", conditions.Select(c => c.Code.Display)))}")
            .AppendLine("Housebound. Visit every two to four weeks: observations, skin integrity check, medicines concordance.")
            .AppendLine("Escalate to GP if early warning score rises or new breathlessness.");
        return text.ToString();
    }
}
