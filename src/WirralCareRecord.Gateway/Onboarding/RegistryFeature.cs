using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>Registers the managed organisation registry, its poller and the onboarding admin API's services.</summary>
public static class RegistryFeature
{
    public static IHostApplicationBuilder AddRegistry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<RegistryOptions>(RegistryOptions.SectionName)
            .Validate(o => !(o.AllowHttpSources && builder.Environment.IsProduction()), "Registry:AllowHttpSources must not be set in Production: source URLs must be https.");
        builder.Services.AddSingleton<SourceUrlRule>();
        builder.Services.AddSingleton<ManagedOrganisationRegistry>();
        builder.Services.AddSingleton<IOrganisationRegistry>(services => services.GetRequiredService<ManagedOrganisationRegistry>());
        builder.Services.AddHostedService<RegistryPoller>();
        return builder;
    }
}
