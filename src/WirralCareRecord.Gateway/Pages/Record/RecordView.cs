using System.Globalization;
using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.Pages.Record;

/// <summary>One row of a record section: what, when, and which organisation it came from.</summary>
/// <param name="Recorded">The date as recorded (ISO), for ordering.</param>
public sealed record RecordRow(string What, string? When, string Source, string? Recorded);

/// <summary>The combined record Bundle laid out for reading: a patient banner, a notice per source issue, a section per type.</summary>
public sealed class RecordView
{
    private static readonly Dictionary<string, string> SectionNames = new(StringComparer.Ordinal)
    {
        ["AllergyIntolerance"] = "Allergies and adverse reactions",
        ["MedicationStatement"] = "Medicines",
        ["MedicationRequest"] = "Medicines prescribed",
        ["Condition"] = "Problems and diagnoses",
        ["Encounter"] = "Encounters",
        ["Observation"] = "Observations and test results",
        ["Procedure"] = "Procedures",
        ["Immunization"] = "Immunisations",
        ["DocumentReference"] = "Documents",
    };

    public required string Name { get; init; }

    public string? BirthDate { get; init; }

    public string? Gender { get; init; }

    public required string NhsNumber { get; init; }

    /// <summary>Organisations whose Patient was matched, in words.</summary>
    public IReadOnlyList<string> MatchedAt { get; init; } = [];

    public IReadOnlyList<(string Severity, string Text)> Notices { get; init; } = [];

    public IReadOnlyList<(string Title, IReadOnlyList<RecordRow> Rows)> Sections { get; init; } = [];

    public static RecordView From(Bundle bundle, string nhsNumber)
    {
        // Provenance names the organisation behind each entry; meta.source is the fallback (the gateway's address for the source).
        var sourceOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var provenance in bundle.Entry.Select(e => e.Resource).OfType<Provenance>())
        {
            var who = provenance.Agent.FirstOrDefault()?.Who;
            var label = who is null ? "Unknown source" : $"{who.Display} ({who.Identifier?.Value})";
            foreach (var target in provenance.Target)
            {
                sourceOf[target.Reference ?? ""] = label;
            }
        }

        string Source(Bundle.EntryComponent entry) =>
            sourceOf.TryGetValue(entry.FullUrl ?? "", out var label) ? label
                : entry.Resource?.Meta?.Source is { } source ? source.TrimEnd('/').Split('/').Reverse().Skip(1).FirstOrDefault() ?? source
                : "Unknown source";

        var patients = bundle.Entry.Where(e => e.Resource is Patient).ToList();
        var patient = (Patient?)patients.FirstOrDefault()?.Resource;
        var name = patient?.Name.FirstOrDefault();
        var outcome = bundle.Entry.FirstOrDefault(e => e.Search?.Mode == Bundle.SearchEntryMode.Outcome)?.Resource as OperationOutcome;
        var sections = bundle.Entry
            .Where(e => e.Resource is not (Patient or Provenance or OperationOutcome) && e.Resource is not null)
            .GroupBy(e => e.Resource!.TypeName)
            .OrderBy(g => SectionNames.Keys.ToList().IndexOf(g.Key) is var i and >= 0 ? i : int.MaxValue)
            .Select(g => (SectionNames.GetValueOrDefault(g.Key, g.Key), (IReadOnlyList<RecordRow>)[.. g.Select(e => Row(e.Resource!, Source(e))).OrderByDescending(r => r.Recorded, StringComparer.Ordinal)]))
            .ToList();
        return new RecordView
        {
            Name = name is null ? "Name not recorded" : $"{string.Join(" ", name.Given)} {name.Family?.ToUpperInvariant()}".Trim(),
            BirthDate = FormatDate(patient?.BirthDate),
            Gender = patient?.Gender?.ToString(),
            NhsNumber = Format(nhsNumber),
            MatchedAt = [.. patients.Select(Source).Distinct(StringComparer.Ordinal)],
            Notices = [.. (outcome?.Issue ?? []).Select(i => (i.Severity?.ToString() ?? "Information", i.Diagnostics ?? i.Details?.Text ?? i.Code?.ToString() ?? ""))],
            Sections = sections,
        };
    }

    /// <summary>3-3-4, as NHS numbers are shown to people.</summary>
    public static string Format(string nhsNumber)
    {
        var digits = PatientMatching.NhsNumber.Standardise(nhsNumber);
        return digits.Length == 10 ? $"{digits[..3]} {digits[3..6]} {digits[6..]}" : nhsNumber;
    }

    private static RecordRow Row(Resource resource, string source)
    {
        var (what, when) = resource switch
        {
            Condition c => (Text(c.Code), Date(c.Onset) ?? c.RecordedDate),
            AllergyIntolerance a => (Text(a.Code), a.RecordedDate),
            MedicationStatement m => (m.Medication is CodeableConcept cc ? Text(cc) : Text(null), Date(m.Effective)),
            MedicationRequest m => (m.Medication is CodeableConcept cc ? Text(cc) : Text(null), m.AuthoredOn),
            Encounter e => (e.Type.Count > 0 ? Text(e.Type[0]) : e.Class?.Display ?? e.Class?.Code ?? "Encounter", e.Period?.Start),
            Observation o => (Text(o.Code) + (o.Value is Quantity q ? $": {q.Value?.ToString(CultureInfo.InvariantCulture)} {q.Unit}" : ""), Date(o.Effective)),
            Procedure p => (Text(p.Code), Date(p.Performed)),
            Immunization i => (Text(i.VaccineCode), Date(i.Occurrence)),
            _ => ($"{resource.TypeName} {resource.Id}", null),
        };
        return new RecordRow(what, FormatDate(when), source, when);
    }

    private static string Text(CodeableConcept? concept) =>
        concept?.Text ?? concept?.Coding.FirstOrDefault()?.Display ?? concept?.Coding.FirstOrDefault()?.Code ?? "Not described";

    private static string? Date(DataType? value) => value switch
    {
        FhirDateTime dateTime => dateTime.Value,
        Period period => period.Start,
        Date date => date.Value,
        _ => null,
    };

    /// <summary>A FHIR date or dateTime shown as 14 Mar 2024; partial dates as given. Sorted rows keep ISO order first.</summary>
    private static string? FormatDate(string? value) =>
        value is null ? null
            : value.Length >= 10 && DateOnly.TryParseExact(value[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
                ? day.ToString("d MMM yyyy", CultureInfo.InvariantCulture)
                : value;
}
