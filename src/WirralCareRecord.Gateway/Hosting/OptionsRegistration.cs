using Microsoft.Extensions.Options;

namespace WirralCareRecord.Gateway.Hosting;

/// <summary>How every feature binds its options: from its section, checked by data annotations, at start-up.</summary>
public static class OptionsRegistration
{
    /// <summary>A misconfigured gateway refuses to start and says which setting is wrong, rather than failing a caller later.</summary>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions>(this IServiceCollection services, string sectionName)
        where TOptions : class =>
        services.AddOptions<TOptions>()
            .BindConfiguration(sectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
}
