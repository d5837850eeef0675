using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>
/// Recognises the same fact recorded at two or more sources (the same allergy or medicine code from the GP and the
/// hospital, the same vaccination on the same day) and links the copies with a shared <c>meta.tag</c>. Both copies
/// stay, each with its own provenance; a reader counts one item per tag code.
/// </summary>
public static class SameItemLinker
{
    public const string TagSystem = "https://fhir.wirralcarerecord.nhs.uk/CodeSystem/wcr-same-item";

    /// <summary>Tags every item whose key is shared by entries from more than one source; returns how many groups were found.</summary>
    public static int Link(IEnumerable<(string OdsCode, Resource Resource)> items)
    {
        var groups = items
            .Select(i => (i.OdsCode, i.Resource, Key: KeyOf(i.Resource)))
            .Where(i => i.Key is not null)
            .GroupBy(i => i.Key, StringComparer.Ordinal)
            .Where(g => g.Select(i => i.OdsCode).Distinct(StringComparer.OrdinalIgnoreCase).Count() > 1)
            .ToList();
        for (var n = 0; n < groups.Count; n++)
        {
            var sources = string.Join(", ", groups[n].Select(i => i.OdsCode).Distinct(StringComparer.OrdinalIgnoreCase));
            foreach (var (_, resource, _) in groups[n])
            {
                (resource.Meta ??= new Meta()).Tag.Add(new Coding(TagSystem, $"same-{n + 1}", $"Same item recorded by {sources}"));
            }
        }

        return groups.Count;
    }
    /// <summary>
    /// What makes two items the same fact: the coded thing, and for events the day it happened. Medicines match across
    /// statements and requests, as a GP's prescription and a hospital's medication history describe the same drug.
    /// </summary>
    internal static string? KeyOf(Resource resource) => resource switch
    {
        AllergyIntolerance r => Key("allergy", r.Code),
        Condition r => Key("condition", r.Code),
        MedicationStatement r => Key("medicine", r.Medication as CodeableConcept),
        MedicationRequest r => Key("medicine", r.Medication as CodeableConcept),
        Immunization r => Key("immunisation", r.VaccineCode, Day(r.Occurrence)),
        Procedure r => Key("procedure", r.Code, Day(r.Performed)),
        Observation r => Key("observation", r.Code, Day(r.Effective)),
        Encounter r => r.Period?.Start is { Length: >= 10 } start && r.Class?.Code is { } cls ? $"encounter|{cls}|{start[..10]}" : null,
        _ => null,
    };

    private static string? Key(string kind, CodeableConcept? code, string? day = "")
    {
        var coding = code?.Coding.FirstOrDefault(c => !string.IsNullOrEmpty(c.System) && !string.IsNullOrEmpty(c.Code));
        return coding is null || day is null ? null : $"{kind}|{coding.System}|{coding.Code}|{day}";
    }

    /// <summary>The day of an event, or null when it has none (an undated event is not matched with anything).</summary>
    private static string? Day(DataType? when) => when switch
    {
        FhirDateTime dt when dt.Value is { Length: >= 10 } v => v[..10],
        Period p when p.Start is { Length: >= 10 } v => v[..10],
        _ => null,
    };
}
