using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>Registers the organisation registry.</summary>
public static class RegistryFeature
{
    public static IHostApplicationBuilder AddRegistry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<RegistryOptions>(RegistryOptions.SectionName);
        builder.Services.AddSingleton<IOrganisationRegistry, SeedFileOrganisationRegistry>();
        return builder;
    }
}
