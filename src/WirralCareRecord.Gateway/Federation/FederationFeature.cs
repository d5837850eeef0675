using OpenTelemetry.Instrumentation.Http;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>Registers the federated read, the record locator and its background re-sweep.</summary>
public static class FederationFeature
{
    public static IHostApplicationBuilder AddFederation(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<FederationOptions>(FederationOptions.SectionName);
        builder.Services.AddSourceHttpClients();
        builder.Services.AddSingleton<SourceAnswers.SourceBufferPool>();
        builder.Services.AddSingleton<FhirSourceClient>();
        builder.Services.AddSingleton<PublicBaseAddress>();
        builder.Services.AddSingleton<SourcePipelines>();
        builder.Services.AddSingleton<SourceCapabilities>();
        builder.Services.AddSingleton<FederationMetrics>();
        builder.Services.AddSingleton<FederatedRecordService>();
        builder.AddRecordLocator();
        return builder;
    }

    private static void AddRecordLocator(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<LocatorOptions>(LocatorOptions.SectionName)
            .Validate(
                o => !builder.Environment.IsProduction() || !string.Equals(o.NameKey, LocatorOptions.DevelopmentNameKey, StringComparison.Ordinal),
                "Locator:NameKey must be set to a secret of your own in Production: with the development key anyone could tell from the locator's blob names whether an NHS number is known.");
        builder.Services.AddSingleton<LocatorStore>();
        builder.Services.AddSingleton<DemographicsService>();
        builder.Services.AddHttpClient(DemographicsService.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        builder.Services.AddSingleton<RecordLocator>();
        builder.Services.AddSingleton<LocatorResweeper>();
        builder.Services.AddHostedService(services => services.GetRequiredService<LocatorResweeper>());

        // A PDS read puts the NHS number in the URL path, which trace instrumentation records unredacted: such
        // requests are left out of traces altogether (query values, as in every other source call, are redacted).
        builder.Services.Configure<HttpClientTraceInstrumentationOptions>(o =>
        {
            var previous = o.FilterHttpRequestMessage;
            o.FilterHttpRequestMessage = request =>
                !(request.Options.TryGetValue(DemographicsService.PathHoldsPatientIdentifier, out var holds) && holds)
                && (previous?.Invoke(request) ?? true);
        });
    }
}
