using System.Text.Json.Serialization;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>Registers the managed organisation registry, its poller, and the onboarding admin API under <c>/admin</c>.</summary>
public static class RegistryFeature
{
    public static IHostApplicationBuilder AddRegistry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<RegistryOptions>(RegistryOptions.SectionName)
            .Validate(o => !(o.AllowHttpSources && builder.Environment.IsProduction()), "Registry:AllowHttpSources must not be set in Production: source URLs must be https.")
            .Validate(o => TestPatients.Problem(o, builder.Environment) is null, "Registry:TestPatients must be valid NHS numbers, and only synthetic test-range numbers (9xx xxx xxxx) in Production.");
        builder.Services.AddSingleton<SourceConnectionRule>();
        builder.Services.AddSingleton<ManagedOrganisationRegistry>();
        builder.Services.AddSingleton<IOrganisationRegistry>(services => services.GetRequiredService<ManagedOrganisationRegistry>());
        builder.Services.AddHostedService<RegistryPoller>();
        builder.Services.AddSingleton<AdminActions>();
        builder.Services.AddSingleton<FlowTester>();
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        builder.Services.AddOpenApi("admin", openApi => openApi.ShouldInclude = endpoint => endpoint.RelativePath?.StartsWith("admin", StringComparison.Ordinal) == true);
        return builder;
    }

    public static IEndpointRouteBuilder MapOnboardingAdmin(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/admin").RequireAuthorization(Policies.Onboarding);
        admin.MapOrganisationAdmin();
        admin.MapAgreementAdmin();
        admin.MapPhaseAdmin();

        // The admin API's OpenAPI document, at /openapi/admin.json; it describes the API and holds no data.
        endpoints.MapOpenApi().AllowAnonymous();
        return endpoints;
    }
}
