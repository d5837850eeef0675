using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>
/// Readiness: the profiles are loaded and every Wirral profile compiled ("13 profiles loaded"). Waits for the load
/// (a few seconds, once per process, started in the background at start-up) rather than answering "not ready" while
/// it runs, so a probe right after start-up sees the real state.
/// </summary>
internal sealed class ProfilesHealthCheck(ProfileLibrary library) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await library.ReadyAsync().WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("The profiles could not be loaded: " + ex.Message);
        }

        return library.Failures.Count == 0
            ? HealthCheckResult.Healthy($"{library.ProfileCount} profiles loaded")
            : HealthCheckResult.Unhealthy($"{library.Failures.Count} profile(s) could not be compiled: {string.Join(", ", library.Failures.Keys)}");
    }
}
