using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>
/// Validation with Firely.Fhir.Validation against the Wirral Care Record profiles: <see cref="IFhirValidator"/> for
/// other features (flow tests), FHIR <c>$validate</c>, the background load of the profiles at start-up, and the
/// data-quality sampler (<see cref="ISourceAnswerSampler"/>) with its figures at
/// <c>GET /admin/organisations/{ods}/data-quality</c>.
/// </summary>
public static class ValidationFeature
{
    public static IHostApplicationBuilder AddValidation(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<ValidationOptions>(ValidationOptions.SectionName)
            .PostConfigure<IHostEnvironment>((options, environment) =>
            {
                if (options.ProfilesPath is { Length: > 0 } profiles)
                {
                    options.ProfilesPath = Path.GetFullPath(profiles, environment.ContentRootPath);
                }
            });
        builder.Services.AddSingleton<IValidateOptions<ValidationOptions>, ValidationOptionsCheck>();
        builder.Services.AddSingleton<ProfileLibrary>();
        builder.Services.AddSingleton<IFhirValidator, FhirValidator>();
        builder.Services.AddHostedService<ProfilesWarmUp>();
        builder.Services.AddSingleton<DataQualityFigures>();
        builder.Services.AddSingleton<SourceAnswerSampler>();
        builder.Services.AddSingleton<ISourceAnswerSampler>(services => services.GetRequiredService<SourceAnswerSampler>());
        builder.Services.AddHostedService(services => services.GetRequiredService<SourceAnswerSampler>());
        return builder;
    }

    public static IEndpointRouteBuilder MapValidation(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapValidateEndpoints();
        endpoints.MapDataQuality();
        return endpoints;
    }

    /// <summary>
    /// A gateway whose profiles folder is missing refuses to start, saying where it looked; so does one whose sampler
    /// could never hold the largest answer it is allowed to sample.
    /// </summary>
    private sealed class ValidationOptionsCheck : IValidateOptions<ValidationOptions>
    {
        public ValidateOptionsResult Validate(string? name, ValidationOptions options)
        {
            if (!Directory.Exists(options.Profiles))
            {
                return ValidateOptionsResult.Fail($"The profiles folder {options.Profiles} does not exist. Set Validation:ProfilesPath to the folder holding the Wirral profiles (the repository's profiles/).");
            }

            return options.SampleQueueMaxBytes < options.SampleMaxBytes + SourceAnswers.SourceBufferPool.BlockSize
                ? ValidateOptionsResult.Fail($"Validation:SampleQueueMaxBytes ({options.SampleQueueMaxBytes}) must be at least Validation:SampleMaxBytes ({options.SampleMaxBytes}) plus 64 KB, or the largest answer the sampler may take could never be held.")
                : ValidateOptionsResult.Success;
        }
    }
}
