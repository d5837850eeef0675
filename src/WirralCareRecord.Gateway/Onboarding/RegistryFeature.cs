namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>Registers the organisation registry.</summary>
public static class RegistryFeature
{
    public static IHostApplicationBuilder AddRegistry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RegistryOptions>()
            .BindConfiguration(RegistryOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IOrganisationRegistry, SeedFileOrganisationRegistry>();
        return builder;
    }
}
