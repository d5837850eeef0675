using System.Collections.Frozen;
using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>
/// What the streaming pass needs to know about FHIR R4, taken from the Firely SDK's own model rather than typed in:
/// which resource types exist, and which top-level elements of each name the patient it is about (the elements behind
/// its <c>patient</c> search parameter, as the Patient compartment defines them).
/// </summary>
internal static class FhirModelTables
{
    /// <summary>Resource type → the top-level element names that hold its patient (e.g. Condition → subject).</summary>
    public static FrozenDictionary<string, string[]> PatientElements { get; } = BuildPatientElements();

    public static bool IsKnownResource(string? type) => type is not null && ModelInfo.IsKnownResource(type);

    /// <summary>The elements naming the patient, or an empty list for types that are not about one patient.</summary>
    public static string[] PatientElementsOf(string type) => PatientElements.TryGetValue(type, out var names) ? names : [];

    private static FrozenDictionary<string, string[]> BuildPatientElements()
    {
        var table = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var parameter in ModelInfo.SearchParameters)
        {
            // "patient" is the compartment's parameter; a few types have only "subject" constrained to Patient.
            var isPatientParameter = parameter.Name == "patient"
                || (parameter.Name == "subject" && parameter.Target?.Any(t => t.ToString() == "Patient") == true);
            if (!isPatientParameter || parameter.Resource is null || parameter.Path is null)
            {
                continue;
            }

            foreach (var path in parameter.Path)
            {
                // Paths read "Condition.subject" or "Observation.subject.where(resolve() is Patient)"; only the
                // element directly under the resource is wanted.
                var parts = path.Split('.');
                if (parts.Length >= 2 && parts[0] == parameter.Resource)
                {
                    var element = parts[1];
                    var bracket = element.IndexOf('(', StringComparison.Ordinal);
                    if (bracket < 0 && element.Length > 0)
                    {
                        (table.TryGetValue(parameter.Resource, out var set) ? set : table[parameter.Resource] = new HashSet<string>(StringComparer.Ordinal)).Add(element);
                    }
                }
            }
        }

        return table.ToFrozenDictionary(kv => kv.Key, kv => kv.Value.Order(StringComparer.Ordinal).ToArray(), StringComparer.Ordinal);
    }
}
