using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>
/// Validates FHIR resources with Firely.Fhir.Validation against the Wirral Care Record profiles, UK Core and base
/// R4. Thread-safe (a pool of validators); the profiles are compiled once per process, in the background at start-up.
/// </summary>
public interface IFhirValidator
{
    /// <summary>
    /// Validates <paramref name="resource"/> against <paramref name="profileUrl"/>; when that is null, against the
    /// profiles in its <c>meta.profile</c>, else the Wirral profile for its type, else the base R4 definition.
    /// </summary>
    /// <returns>
    /// Always at least one issue, as FHIR requires. Each problem has a severity and its FHIRPath location in
    /// <c>expression</c>. The resource is valid when no issue is an error or fatal (<see cref="OperationOutcome.Success"/>);
    /// with nothing at all to report the outcome holds one information issue, "All OK". SNOMED CT and dm+d codes,
    /// and codes bound to value sets the gateway cannot expand, are reported as information, "Not checked".
    /// </returns>
    OperationOutcome Validate(Resource resource, string? profileUrl = null);

    /// <summary>Whether a StructureDefinition with this canonical URL (Wirral, UK Core or base R4) is known.</summary>
    bool HasProfile(string canonicalUrl);
}
