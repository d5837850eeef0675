using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>
/// <c>GET /admin/organisations/{ods}/data-quality</c> (onboarding staff): what the background sampler and flow tests
/// have measured of a source's data on this gateway instance. An unknown organisation is a 404 ProblemDetails, as
/// on the rest of the admin API. The organisation's onboarding page shows the same report.
/// </summary>
internal static class DataQualityEndpoint
{
    public const string Path = "/admin/organisations/{odsCode}/data-quality";

    public static IEndpointRouteBuilder MapDataQuality(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(Path, Get)
            .RequireAuthorization(Policies.Onboarding)
            .WithTags("Organisations")
            .WithSummary("The source's data quality: resources checked, share conformant, most frequent problems with their FHIRPath locations");
        return endpoints;
    }

    private static Ok<DataQualityReport> Get(string odsCode, IOrganisationRegistry registry, DataQualityFigures figures, IOptions<ValidationOptions> options)
    {
        var organisation = registry.Current.Find(odsCode) ?? throw RegistryRefusal.NotFound($"Organisation {odsCode}");
        return TypedResults.Ok(Report(organisation, figures, options));
    }

    /// <summary>The organisation's report as this endpoint gives it; the onboarding page shows the same.</summary>
    internal static DataQualityReport Report(Organisation organisation, DataQualityFigures figures, IOptions<ValidationOptions> options) =>
        figures.Report(organisation.OdsCode, options.Value.SampleShare);
}
