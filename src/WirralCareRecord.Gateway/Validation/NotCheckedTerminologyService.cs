using Hl7.Fhir.Model;
using Hl7.Fhir.Rest;
using Hl7.Fhir.Specification.Terminology;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>
/// The validator's terminology service: Firely's <see cref="LocalTerminologyService"/> over the value sets and code
/// systems the gateway holds, except for what it cannot judge. SNOMED CT and dm+d codes (hundreds of thousands of
/// concepts, licensed separately, not held here), and value sets that cannot be expanded locally, are answered
/// "valid" with a message beginning <see cref="NotChecked"/>; <see cref="FirelyValidation"/> turns those into
/// information issues. Without this, Firely skips SNOMED CT codes silently or reports a terminology failure.
/// </summary>
internal sealed class NotCheckedTerminologyService(ICodeValidationTerminologyService local) : ICodeValidationTerminologyService
{
    public const string NotChecked = "Not checked: ";
    public const string Snomed = "http://snomed.info/sct";
    public const string Dmd = "https://dmd.nhs.uk";

    public async Task<Parameters> ValueSetValidateCode(Parameters parameters, string? id = null, bool useGet = false)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var valueSet = parameters.GetSingleValue<FhirUri>("url")?.Value ?? parameters.GetSingleValue<Canonical>("url")?.Value ?? "the value set";
        var systems = Systems(parameters);
        if (systems.Count > 0 && systems.All(IsNotHeld))
        {
            return Answer(true, $"{NotChecked}{Describe(systems)} codes are not held by the gateway, so this code was not checked against {valueSet}.");
        }

        try
        {
            return await local.ValueSetValidateCode(parameters, id, useGet).ConfigureAwait(false);
        }
        catch (FhirOperationException)
        {
            // The value set includes a system the gateway does not hold, or cannot be expanded here.
            return Answer(true, $"{NotChecked}{valueSet} cannot be expanded by the gateway, so this code was not checked against it.");
        }
    }

    public Task<Parameters> Subsumes(Parameters parameters, string? id = null, bool useGet = false) => local.Subsumes(parameters, id, useGet);

    public static bool IsNotHeld(string? system) =>
        system is not null && (system == Snomed || system.StartsWith(Dmd, StringComparison.Ordinal));

    private static string Describe(IReadOnlyCollection<string?> systems) =>
        string.Join(" and ", systems.Select(s => s == Snomed ? "SNOMED CT" : "dm+d").Distinct(StringComparer.Ordinal));

    private static List<string?> Systems(Parameters parameters)
    {
        var systems = new List<string?>();
        if (parameters.GetSingleValue<FhirUri>("system") is { } system)
        {
            systems.Add(system.Value);
        }

        if (parameters.GetSingleValue<Coding>("coding") is { } coding)
        {
            systems.Add(coding.System);
        }

        if (parameters.GetSingleValue<CodeableConcept>("codeableConcept") is { } concept)
        {
            systems.AddRange(concept.Coding.Where(c => !string.IsNullOrEmpty(c.Code)).Select(c => c.System));
        }

        return systems;
    }

    private static Parameters Answer(bool result, string message) => new()
    {
        Parameter =
        [
            new Parameters.ParameterComponent { Name = "result", Value = new FhirBoolean(result) },
            new Parameters.ParameterComponent { Name = "message", Value = new FhirString(message) },
        ],
    };
}
