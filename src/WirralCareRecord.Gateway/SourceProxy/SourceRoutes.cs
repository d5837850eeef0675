using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Onboarding;
using Yarp.ReverseProxy.Configuration;

namespace WirralCareRecord.Gateway.SourceProxy;

/// <summary>
/// YARP routes and clusters generated from the registry: one route per source, <c>/sources/{ods}/fhir/{**path}</c>,
/// read-only, behind the same sign-in and agreement policy as the federated read. Rebuilt when the registry changes.
/// </summary>
internal sealed class SourceRoutes(IOrganisationRegistry registry, IOptions<FederationOptions> federation) : IProxyConfigProvider
{
    /// <summary>Route metadata naming the source organisation; its presence is what makes a route a source route.</summary>
    public const string SourceMetadataKey = "wcr-source";

    public IProxyConfig GetConfig() => Build(registry.Current, registry.GetChangeToken(), federation.Value.SourceHealthCheckInterval, federation.Value.SourceTimeout);

    internal static IProxyConfig Build(RegistrySnapshot snapshot, IChangeToken changeToken, TimeSpan healthCheckInterval, TimeSpan sourceTimeout)
    {
        // Suspended or withdrawn organisations get no route at all; visibility of the rest is decided per caller.
        var sources = snapshot.Organisations.Where(o => o.State is LifecycleState.Live or LifecycleState.Pilot).ToList();
        var routes = sources.Select(o => new RouteConfig
        {
            RouteId = "source-" + o.OdsCode,
            ClusterId = "source-" + o.OdsCode,
            AuthorizationPolicy = Policies.RecordViewer,
            Match = new RouteMatch { Path = $"/sources/{o.OdsCode}/fhir/{{**path}}", Methods = ["GET", "HEAD"] },
            Metadata = new Dictionary<string, string> { [SourceMetadataKey] = o.OdsCode },
            Transforms = [new Dictionary<string, string> { ["PathPattern"] = "/{**path}" }],
        }).ToList();
        var clusters = sources.Select(o => new ClusterConfig
        {
            ClusterId = "source-" + o.OdsCode,
            Metadata = new Dictionary<string, string>
            {
                [SourceMetadataKey] = o.OdsCode,
                [SourceForwarderHttpClients.AuthenticationMetadataKey] = System.Text.Json.JsonSerializer.Serialize(o.Authentication),
            },
            Destinations = new Dictionary<string, DestinationConfig>
            {
                ["primary"] = new() { Address = o.FhirBaseUrl.ToString().TrimEnd('/') },
            },
            HttpRequest = new Yarp.ReverseProxy.Forwarder.ForwarderRequestConfig
            {
                // The source's own timeout, as for the federated read: a hung source never holds the route longer.
                ActivityTimeout = o.Timeout ?? sourceTimeout,
            },
            // YARP probes each source's CapabilityStatement; the federated read skips a source marked unhealthy.
            HealthCheck = new HealthCheckConfig
            {
                Active = new ActiveHealthCheckConfig
                {
                    Enabled = true,
                    Interval = healthCheckInterval,
                    Timeout = TimeSpan.FromSeconds(5),
                    Policy = "ConsecutiveFailures",
                    Path = "/metadata",
                },
            },
        }).ToList();
        return new Config(routes, clusters, changeToken);
    }

    private sealed class Config(IReadOnlyList<RouteConfig> routes, IReadOnlyList<ClusterConfig> clusters, IChangeToken changeToken) : IProxyConfig
    {
        public IReadOnlyList<RouteConfig> Routes { get; } = routes;

        public IReadOnlyList<ClusterConfig> Clusters { get; } = clusters;

        public IChangeToken ChangeToken { get; } = changeToken;
    }
}
