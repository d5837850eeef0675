using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Conformance;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Validation;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace WirralCareRecord.Gateway.Hosting;

/// <summary>
/// Health for operators: <c>/health/live</c> (the process answers), <c>/health/ready</c> (audit storage writable,
/// registry loaded, conformance loaded) and <c>/health/sources</c> (each source's state from YARP's active checks of
/// its <c>/metadata</c>, for onboarding admins).
/// </summary>
public static class HealthFeature
{
    private const string Ready = "ready";

    public static IHostApplicationBuilder AddGatewayHealth(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks()
            .AddCheck<AuditStoreHealthCheck>("audit-store", tags: [Ready])
            .AddCheck<RegistryHealthCheck>("registry", tags: [Ready])
            .AddCheck<ConformanceHealthCheck>("conformance", tags: [Ready])
            .AddCheck<ProfilesHealthCheck>("profiles", tags: [Ready]);
        return builder;
    }

    public static IEndpointRouteBuilder MapGatewayHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(Ready) }).AllowAnonymous();
        endpoints.MapGet("/health/sources", (IProxyStateLookup proxy, IOrganisationRegistry registry) =>
            TypedResults.Ok(registry.Current.Organisations.Select(o => new SourceHealth(o.OdsCode, o.Name, o.State.ToString(), StateOf(proxy, o.OdsCode).ToString()))))
            .RequireAuthorization(Policies.Operations);
        return endpoints;
    }

    /// <summary>YARP's view of a source from its active health checks; Unknown before the first probe or without a route.</summary>
    public static DestinationHealth StateOf(IProxyStateLookup proxy, string odsCode) =>
        proxy.TryGetCluster("source-" + odsCode, out var cluster) && cluster.Destinations.Values.FirstOrDefault() is { } destination
            ? destination.Health.Active
            : DestinationHealth.Unknown;

    internal sealed record SourceHealth(string OdsCode, string Name, string Lifecycle, string Health);

    private sealed class AuditStoreHealthCheck(IAuditStore store) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await store.ProbeAsync(cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Any failure counts, not only a local folder's: Azure reports an unreachable account as RequestFailedException.
                // Without the audit log every record read fails closed, so the instance is not ready.
                return HealthCheckResult.Unhealthy("The audit store cannot be written.");
            }
        }
    }

    private sealed class RegistryHealthCheck(IOrganisationRegistry registry) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(registry.Current.Organisations.Count > 0
                ? HealthCheckResult.Healthy($"{registry.Current.Organisations.Count} organisations")
                : HealthCheckResult.Unhealthy("The registry holds no organisations."));
    }

    private sealed class ConformanceHealthCheck(ConformanceResources conformance) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(conformance.OperationDefinitions.Count > 0 ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("No OperationDefinitions loaded."));
    }
}
