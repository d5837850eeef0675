using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace WirralCareRecord.Gateway.SourceProxy;

/// <summary>YARP as the front door for single-source reads, configured from the registry.</summary>
public static class SourceProxyFeature
{
    public static IHostApplicationBuilder AddSourceProxy(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IProxyConfigProvider, SourceRoutes>();
        builder.Services.AddMemoryCache();
        builder.Services.AddSingleton<RoutePatientGate>();
        builder.Services.AddSingleton<PageLinkSigner>();
        builder.Services.AddReverseProxy().AddTransforms<SourceResponseTransforms>();
        builder.Services.AddSingleton<IForwarderHttpClientFactory, SourceForwarderHttpClients>();
        return builder;
    }

    public static IEndpointRouteBuilder MapSourceProxy(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapReverseProxy(pipeline => pipeline.UseMiddleware<SourceAccessMiddleware>());

        // Only live and pilot organisations have routes; any other code answers here, as FHIR, not with an empty 404.
        endpoints.MapMethods("/sources/{ods}/fhir/{**path}", ["GET", "HEAD"], (HttpContext context, string ods) => new FhirResult(
            Outcomes.Create(OperationOutcome.IssueType.NotFound, $"'{SourceRouteContract.Bounded(ods)}' is not a source organisation in service with the Wirral Care Record.", context.CorrelationId()),
            StatusCodes.Status404NotFound)).RequireAuthorization(Authentication.Policies.RecordViewer);
        return endpoints;
    }
}
