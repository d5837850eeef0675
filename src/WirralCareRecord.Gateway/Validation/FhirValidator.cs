using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>The gateway's <see cref="IFhirValidator"/>, over the process-wide compiled profiles.</summary>
internal sealed class FhirValidator(ProfileLibrary library) : IFhirValidator
{
    public OperationOutcome Validate(Resource resource, string? profileUrl = null)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return library.Engine.Validate(resource, profileUrl);
    }

    public bool HasProfile(string canonicalUrl) => library.Engine.HasProfile(canonicalUrl);
}
