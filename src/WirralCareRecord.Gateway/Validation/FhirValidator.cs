using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>The gateway's <see cref="IFhirValidator"/>, over the process-wide Firely set-up (waiting for the warm-up if it is still running).</summary>
internal sealed class FhirValidator(ProfileLibrary library) : IFhirValidator
{
    public OperationOutcome Validate(Resource resource, string? profileUrl = null) => library.Validation.Validate(resource, profileUrl);

    public bool HasProfile(string canonicalUrl) => library.Validation.HasProfile(canonicalUrl);
}
