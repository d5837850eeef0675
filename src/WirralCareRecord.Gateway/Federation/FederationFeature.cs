using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>Registers the federated read.</summary>
public static class FederationFeature
{
    public static IHostApplicationBuilder AddFederation(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<FederationOptions>(FederationOptions.SectionName);
        builder.Services.AddSourceHttpClients();
        builder.Services.AddSingleton<FhirSourceClient>();
        builder.Services.AddSingleton<SourcePipelines>();
        builder.Services.AddSingleton<FederatedRecordService>();
        return builder;
    }
}
