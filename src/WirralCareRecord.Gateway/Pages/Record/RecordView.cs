using System.Globalization;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Pages.Record;

/// <summary>An organisation an item came from.</summary>
public sealed record ItemSource(string OdsCode, string Name);

/// <summary>
/// One fact in the record, shown once however many sources hold it: the Bundle links copies of the same fact across
/// sources (<see cref="SameItemLinker"/>), and each copy's source is listed. Where the copies disagree (dates, status,
/// values) the item says so plainly.
/// </summary>
public sealed class RecordItem
{
    /// <summary>The FHIR type of the item (AllergyIntolerance, Condition, ...).</summary>
    public required string Type { get; init; }

    public required string What { get; init; }

    /// <summary>A value with its unit (120/80 mmHg), a reaction, a dose: what makes the item useful at a glance.</summary>
    public string? Detail { get; init; }

    /// <summary>The date shown (14 Mar 2024), and the ISO date it came from, for ordering and filtering.</summary>
    public string? When { get; init; }

    public string? Recorded { get; init; }

    public string? Status { get; init; }

    public required IReadOnlyList<ItemSource> Sources { get; init; }

    /// <summary>Where the sources' copies differ, in words ("Dates differ: ...").</summary>
    public IReadOnlyList<string> Disagreements { get; init; } = [];

    /// <summary>For encounters: the kind of setting it was recorded by, for the timeline.</summary>
    public OrganisationKind? Setting { get; init; }

    /// <summary>For letters: each source's copy, which the page can open.</summary>
    public IReadOnlyList<LetterCopy> Letters { get; init; } = [];

    public string SourceNames => string.Join(", ", Sources.Select(s => s.Name));
}

/// <summary>A letter (DocumentReference) at one source: enough for the page to ask that source for it again.</summary>
/// <param name="PatientId">The matched patient's id at that source: the letter must still be about them when it is opened.</param>
public sealed record LetterCopy(string OdsCode, string SourceName, string DocumentReferenceId, string PatientId, string? ContentType);

/// <summary>How one source answered the read, for the status line at the top of the record.</summary>
/// <param name="State">answered, withheld, failed, not-found or left-out.</param>
public sealed record SourceState(string OdsCode, string Name, string State, string Text);

/// <summary>One section of the record: its items, newest first, and the few the summary shows.</summary>
public sealed record RecordSection(string Id, string Title, IReadOnlyList<RecordItem> Items, IReadOnlyList<RecordItem> Summary, string Empty);

/// <summary>The combined record Bundle laid out for a consultation: summary first, full history behind it.</summary>
public sealed class RecordView
{
    public required string Name { get; init; }

    public string? BirthDate { get; init; }

    public string? Gender { get; init; }

    public required string NhsNumber { get; init; }

    /// <summary>The NHS number as digits, for the page's forms.</summary>
    public required string NhsDigits { get; init; }

    /// <summary>Organisations whose Patient was matched, in words.</summary>
    public IReadOnlyList<string> MatchedAt { get; init; } = [];

    public IReadOnlyList<SourceState> SourceStates { get; init; } = [];

    /// <summary>Notices about the whole read (how sources were chosen, corroboration, break-glass), not about one source.</summary>
    public IReadOnlyList<(string Severity, string Text)> Notices { get; init; } = [];

    public IReadOnlyList<RecordSection> Sections { get; init; } = [];

    public IReadOnlyList<RecordItem> Encounters => Sections.FirstOrDefault(s => s.Id == "encounters")?.Items ?? [];

    public IReadOnlyList<ItemSource> AllSources => [.. Sections.SelectMany(s => s.Items).SelectMany(i => i.Sources).DistinctBy(s => s.OdsCode).OrderBy(s => s.Name, StringComparer.Ordinal)];

    private const int SummaryRows = 3;

    public static RecordView From(Bundle bundle, string nhsNumber, Func<string, OrganisationKind?>? settingOf = null)
    {
        // Provenance names the organisation behind each entry.
        var sourceOf = new Dictionary<string, ItemSource>(StringComparer.Ordinal);
        foreach (var provenance in bundle.Entry.Select(e => e.Resource).OfType<Provenance>())
        {
            var who = provenance.Agent.FirstOrDefault()?.Who;
            var source = new ItemSource(who?.Identifier?.Value ?? "?", who?.Display ?? who?.Identifier?.Value ?? "Unknown source");
            foreach (var target in provenance.Target)
            {
                sourceOf[target.Reference ?? ""] = source;
            }
        }

        ItemSource SourceOf(Bundle.EntryComponent entry) =>
            sourceOf.TryGetValue(entry.FullUrl ?? "", out var source) ? source : new ItemSource("?", "Unknown source");

        var patients = bundle.Entry.Where(e => e.Resource is Patient).ToList();
        var patientAt = patients.GroupBy(e => SourceOf(e).OdsCode, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Resource!.Id ?? "", StringComparer.Ordinal);
        var patient = (Patient?)patients.FirstOrDefault()?.Resource;
        var name = patient?.Name.FirstOrDefault();
        var outcome = bundle.Entry.FirstOrDefault(e => e.Search?.Mode == Bundle.SearchEntryMode.Outcome)?.Resource as OperationOutcome;
        var items = bundle.Entry
            .Where(e => e.Resource is not (Patient or Provenance or OperationOutcome) && e.Resource is not null)
            .Select(e => (Entry: e, Source: SourceOf(e)))
            .ToList();

        // Copies of one fact share a same-item tag; anything untagged is its own group.
        var groups = items
            .GroupBy(i => i.Entry.Resource!.Meta?.Tag.FirstOrDefault(t => t.System == SameItemLinker.TagSystem)?.Code is { } tag ? "tag:" + tag : "entry:" + i.Entry.FullUrl, StringComparer.Ordinal)
            .Select(g => Item([.. g], patientAt, settingOf))
            .ToList();

        var sections = new List<RecordSection>
        {
            Section("allergies", "Allergies and adverse reactions", groups.Where(i => i.Type == "AllergyIntolerance"), all => all, "No allergies recorded by any source that answered."),
            Section("problems", "Active problems", groups.Where(i => i.Type == "Condition"), all => [.. all.Where(i => i.Status is null or "active" or "recurrence" or "relapse")], "No active problems recorded."),
            Section("medication", "Current medication", groups.Where(i => i.Type is "MedicationStatement" or "MedicationRequest"), all => [.. all.Where(i => i.Status is null or "active" or "intended" or "on-hold")], "No current medication recorded."),
            Section("results", "Recent results", groups.Where(i => i.Type == "Observation"), all => all, "No results recorded."),
            Section("encounters", "Recent encounters", groups.Where(i => i.Type == "Encounter"), all => all, "No encounters recorded."),
            Section("letters", "Letters", groups.Where(i => i.Type == "DocumentReference"), all => all, "No letters recorded."),
            Section("other", "Procedures, immunisations and more", groups.Where(i => i.Type is not ("AllergyIntolerance" or "Condition" or "MedicationStatement" or "MedicationRequest" or "Observation" or "Encounter" or "DocumentReference")), all => all, "Nothing else recorded."),
        };

        var sourceIssues = (outcome?.Issue ?? []).Where(i => OdsOf(i) is not null).ToList();
        var states = new List<SourceState>();
        foreach (var source in sourceOf.Values.DistinctBy(s => s.OdsCode))
        {
            var count = items.Count(i => i.Source.OdsCode == source.OdsCode);
            var withheld = sourceIssues.FirstOrDefault(i => OdsOf(i) == source.OdsCode && i.Code == OperationOutcome.IssueType.Suppressed);
            states.Add(withheld is null
                ? new SourceState(source.OdsCode, source.Name, "answered", $"answered: {count} item{(count == 1 ? "" : "s")}")
                : new SourceState(source.OdsCode, source.Name, "withheld", $"answered: {count} item{(count == 1 ? "" : "s")}; some withheld"));
        }

        foreach (var issue in sourceIssues.Where(i => i.Code != OperationOutcome.IssueType.Suppressed && states.All(s => s.OdsCode != OdsOf(i))))
        {
            var (state, label) = issue.Code switch
            {
                OperationOutcome.IssueType.NotFound => ("not-found", "does not hold this patient"),
                OperationOutcome.IssueType.Conflict or OperationOutcome.IssueType.MultipleMatches => ("left-out", "left out: could not be confirmed as this patient"),
                OperationOutcome.IssueType.Timeout => ("failed", "did not answer in time"),
                _ => ("failed", "could not be read"),
            };
            states.Add(new SourceState(OdsOf(issue)!, NameIn(issue) ?? OdsOf(issue)!, state, label));
        }

        return new RecordView
        {
            Name = name is null ? "Name not recorded" : $"{string.Join(" ", name.Given)} {name.Family?.ToUpperInvariant()}".Trim(),
            BirthDate = FormatDate(patient?.BirthDate),
            Gender = patient?.Gender?.ToString(),
            NhsNumber = Format(nhsNumber),
            NhsDigits = PatientMatching.NhsNumber.Standardise(nhsNumber),
            MatchedAt = [.. patients.Select(e => SourceOf(e).Name).Distinct(StringComparer.Ordinal)],
            SourceStates = [.. states.OrderBy(s => s.State == "answered" ? 1 : 0).ThenBy(s => s.Name, StringComparer.Ordinal)],
            Notices = [.. (outcome?.Issue ?? []).Select(i => (Severity: i.Severity?.ToString() ?? "Information", Text: i.Diagnostics ?? i.Details?.Text ?? i.Code?.ToString() ?? "", Issue: i))
                .Where(n => OdsOf(n.Issue) is null || n.Issue.Code != OperationOutcome.IssueType.NotFound)
                .Select(n => (n.Severity, n.Text))],
            Sections = sections,
        };

        RecordSection Section(string id, string title, IEnumerable<RecordItem> all, Func<List<RecordItem>, List<RecordItem>> summary, string empty)
        {
            var ordered = all.OrderByDescending(i => i.Recorded ?? "", StringComparer.Ordinal).ToList();
            return new RecordSection(id, title, ordered, [.. summary(ordered).Take(SummaryRows)], empty);
        }
    }

    /// <summary>3-3-4, as NHS numbers are shown to people.</summary>
    public static string Format(string nhsNumber)
    {
        var digits = PatientMatching.NhsNumber.Standardise(nhsNumber);
        return digits.Length == 10 ? $"{digits[..3]} {digits[3..6]} {digits[6..]}" : nhsNumber;
    }

    private static RecordItem Item(List<(Bundle.EntryComponent Entry, ItemSource Source)> copies, Dictionary<string, string> patientAt, Func<string, OrganisationKind?>? settingOf)
    {
        var first = copies[0].Entry.Resource!;
        var facts = copies.Select(c => (c.Source, Fact: Describe(c.Entry.Resource!))).ToList();
        // Each source's latest copy speaks for it: a medicine issued twelve times is one current medicine, not twelve dates.
        // A medicine is current at a source while any of its copies there is active.
        var medicine = first is MedicationStatement or MedicationRequest;
        var latest = facts.GroupBy(f => f.Source.OdsCode, StringComparer.Ordinal)
            .Select(g => g.OrderByDescending(f => medicine && f.Fact.Status == "active").ThenByDescending(f => f.Fact.When ?? "", StringComparer.Ordinal).First())
            .ToList();
        var disagreements = new List<string>();
        if (latest.Count > 1)
        {
            if (first is AllergyIntolerance or Condition or Immunization or Procedure)
            {
                Differ("Dates differ", f => FormatDate(f.When));
            }

            if (!medicine)
            {
                // A medicine's status differs across settings by design (a hospital's ends at discharge); an allergy's or problem's must not.
                Differ("Status differs", f => f.Status);
            }

            if (first is Observation)
            {
                Differ("Values differ", f => f.Detail);
            }
        }

        var shown = medicine ? facts.OrderByDescending(f => f.Fact.When ?? "", StringComparer.Ordinal).First().Fact : facts.FirstOrDefault(f => f.Fact.When is not null).Fact ?? facts[0].Fact;
        var statuses = latest.Select(f => f.Fact.Status).Where(s => s is not null).ToList();
        return new RecordItem
        {
            Type = first.TypeName,
            What = facts[0].Fact.What,
            Detail = shown.Detail ?? facts.Select(f => f.Fact.Detail).FirstOrDefault(d => d is not null),
            When = FormatDate(shown.When),
            Recorded = facts.Select(f => f.Fact.When).Where(w => w is not null).Max(StringComparer.Ordinal),
            // A medicine is current while any source holds it as active.
            Status = statuses.Contains("active") ? "active" : statuses.FirstOrDefault(),
            Sources = [.. copies.Select(c => c.Source).DistinctBy(s => s.OdsCode)],
            Disagreements = disagreements,
            Setting = settingOf?.Invoke(copies[0].Source.OdsCode),
            Letters = [.. copies.Where(c => c.Entry.Resource is DocumentReference && patientAt.ContainsKey(c.Source.OdsCode))
                .Select(c => new LetterCopy(c.Source.OdsCode, c.Source.Name, c.Entry.Resource!.Id ?? "", patientAt[c.Source.OdsCode], ((DocumentReference)c.Entry.Resource).Content.FirstOrDefault()?.Attachment?.ContentType))],
        };

        void Differ(string label, Func<Fact, string?> value)
        {
            // Grouped by value, so four sources and one odd date read as two values, each with who holds it.
            var values = latest.Select(f => (f.Source, Value: value(f.Fact)))
                .Where(v => v.Value is not null)
                .GroupBy(v => v.Value!, StringComparer.Ordinal)
                .ToList();
            if (values.Count > 1)
            {
                disagreements.Add($"{label}: " + string.Join("; ", values.Select(g => $"{g.Key} ({string.Join(", ", g.Select(v => v.Source.Name).Distinct(StringComparer.Ordinal))})")));
            }
        }
    }

    private sealed record Fact(string What, string? Detail, string? When, string? Status);

    private static Fact Describe(Resource resource) => resource switch
    {
        AllergyIntolerance a => new(Text(a.Code), Reaction(a), Date(a.Onset) ?? a.RecordedDate, Code(a.ClinicalStatus)),
        Condition c => new(Text(c.Code), null, Date(c.Onset) ?? c.RecordedDate, Code(c.ClinicalStatus)),
        MedicationStatement m => new(m.Medication is CodeableConcept cc ? Text(cc) : Text(null), Dosage(m.Dosage), Date(m.Effective) ?? m.DateAsserted, m.Status?.ToString().ToLowerInvariant()),
        MedicationRequest m => new(m.Medication is CodeableConcept cc ? Text(cc) : Text(null), Dosage(m.DosageInstruction), m.AuthoredOn, m.Status?.ToString().ToLowerInvariant()),
        Encounter e => EncounterFact(e),
        Observation o => new(Text(o.Code), ObservationValue(o), Date(o.Effective) ?? o.Issued?.ToString("o", CultureInfo.InvariantCulture), o.Status?.ToString().ToLowerInvariant()),
        Procedure p => new(Text(p.Code), null, Date(p.Performed), p.Status?.ToString().ToLowerInvariant()),
        Immunization i => new(Text(i.VaccineCode), null, Date(i.Occurrence), i.Status?.ToString().ToLowerInvariant()),
        DocumentReference d => LetterFact(d),
        _ => new($"{resource.TypeName}", null, null, null),
    };

    private static Fact LetterFact(DocumentReference d)
    {
        var what = d.Description ?? d.Content.FirstOrDefault()?.Attachment?.Title ?? (d.Type is null ? "Document" : Text(d.Type));
        var kind = d.Type is null ? null : Text(d.Type);
        return new(what, kind is null || string.Equals(kind, what, StringComparison.OrdinalIgnoreCase) ? null : kind, d.Date?.ToString("o", CultureInfo.InvariantCulture), null);
    }

    private static Fact EncounterFact(Encounter e)
    {
        var what = e.Type.Count > 0 ? Text(e.Type[0]) : e.Class?.Display ?? e.Class?.Code ?? "Encounter";
        var kind = e.Class?.Display ?? e.Class?.Code;
        return new(what, kind is null || what.Contains(kind, StringComparison.OrdinalIgnoreCase) ? null : kind, e.Period?.Start, e.Status?.ToString().ToLowerInvariant());
    }

    /// <summary>
    /// An observation's value with its unit. Blood pressure and other panels keep their values in <c>component</c>: shown
    /// as 120/80 mmHg, so a reading is never shown as if it had no value.
    /// </summary>
    internal static string? ObservationValue(Observation o)
    {
        if (Value(o.Value) is { } single)
        {
            return single;
        }

        if (o.Component.Count == 0)
        {
            return o.DataAbsentReason is null ? null : "No value: " + Text(o.DataAbsentReason);
        }

        var quantities = o.Component.Select(c => c.Value as Quantity).ToList();
        if (quantities.Count == 2 && quantities.All(q => q?.Value is not null) && quantities[0]!.Unit == quantities[1]!.Unit)
        {
            // Systolic/diastolic (or any pair in one unit), as clinicians write them.
            return $"{Number(quantities[0]!.Value)}/{Number(quantities[1]!.Value)} {quantities[0]!.Unit}".TrimEnd();
        }

        return string.Join(", ", o.Component.Select(c => $"{Text(c.Code)} {Value(c.Value) ?? "no value"}"));
    }

    private static string? Value(DataType? value) => value switch
    {
        Quantity q when q.Value is not null => $"{Number(q.Value)} {q.Unit ?? q.Code}".TrimEnd(),
        CodeableConcept c => Text(c),
        FhirString s => s.Value,
        FhirBoolean b => b.Value == true ? "Yes" : "No",
        Integer i => i.Value?.ToString(CultureInfo.InvariantCulture),
        _ => null,
    };

    private static string Number(decimal? value) => value?.ToString("0.###", CultureInfo.InvariantCulture) ?? "";

    private static string? Reaction(AllergyIntolerance a)
    {
        var reaction = a.Reaction.FirstOrDefault();
        var manifestation = reaction?.Manifestation.FirstOrDefault();
        return manifestation is null || reaction is null ? null : Text(manifestation) + (reaction.Severity is { } severity ? $" ({severity.ToString().ToLowerInvariant()})" : "");
    }

    private static string? Dosage(IEnumerable<Dosage> dosage) => dosage.FirstOrDefault()?.Text;

    private static string? Code(CodeableConcept? concept) => concept?.Coding.FirstOrDefault()?.Code;

    private static string Text(CodeableConcept? concept) =>
        concept?.Text ?? concept?.Coding.FirstOrDefault()?.Display ?? concept?.Coding.FirstOrDefault()?.Code ?? "Not described";

    private static string? Date(DataType? value) => value switch
    {
        FhirDateTime dateTime => dateTime.Value,
        Period period => period.Start,
        Date date => date.Value,
        _ => null,
    };

    private static string? OdsOf(OperationOutcome.IssueComponent issue) =>
        issue.Location.FirstOrDefault(l => l is not null && l.StartsWith(OdsCode.System + "|", StringComparison.Ordinal))?[(OdsCode.System.Length + 1)..];

    /// <summary>The source's name as the issue's message opens with it ("Wirral University Teaching Hospital (RBL) ...").</summary>
    private static string? NameIn(OperationOutcome.IssueComponent issue) =>
        issue.Diagnostics is { } text && OdsOf(issue) is { } ods && text.IndexOf($"({ods})", StringComparison.Ordinal) is var at and > 0 ? text[..at].Trim() : null;

    /// <summary>A FHIR date or dateTime shown as 14 Mar 2024; partial dates as given.</summary>
    public static string? FormatDate(string? value) =>
        value is null ? null
            : value.Length >= 10 && DateOnly.TryParseExact(value[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
                ? day.ToString("d MMM yyyy", CultureInfo.InvariantCulture)
                : value;
}
