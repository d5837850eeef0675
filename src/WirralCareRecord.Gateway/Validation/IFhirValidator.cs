using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>
/// Validates FHIR resources against the Wirral Care Record profiles, UK Core and base R4: cardinality, types,
/// fixed and pattern values, slicing, bindings to value sets that can be expanded locally, FHIRPath invariants and
/// references. Thread-safe; profiles are compiled once per process and validating a typical resource takes well
/// under a millisecond.
/// </summary>
public interface IFhirValidator
{
    /// <summary>
    /// Validates <paramref name="resource"/> against <paramref name="profileUrl"/>; when that is null, against the
    /// profiles in its <c>meta.profile</c>, else the Wirral profile for its type, else the base R4 definition.
    /// </summary>
    /// <returns>
    /// Always at least one issue, as FHIR requires. Each problem has a severity and its FHIRPath location in
    /// <c>expression</c> (<c>Patient.identifier[0].system</c>); a missing element is reported at its parent. The
    /// resource is valid when no issue is an error or fatal (<see cref="OperationOutcome.Success"/>); with nothing
    /// at all to report the outcome holds one information issue, "All OK". Codes from code systems the gateway does
    /// not hold (SNOMED CT, dm+d, LOINC) are reported as information, "not checked", never as errors.
    /// </returns>
    OperationOutcome Validate(Resource resource, string? profileUrl = null);

    /// <summary>Whether a StructureDefinition with this canonical URL (Wirral, UK Core or base R4) is known.</summary>
    bool HasProfile(string canonicalUrl);
}
