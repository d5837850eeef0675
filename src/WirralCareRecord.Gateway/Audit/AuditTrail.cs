using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// Records accesses before anything leaves the gateway. If the store fails the request fails with it:
/// <see cref="AuditUnavailableException"/> (503), and no data is served unaudited.
/// </summary>
public sealed partial class AuditTrail(
    IAuditStore store,
    IOrganisationRegistry registry,
    TimeProvider time,
    IOptions<AuditOptions> options,
    GatewayTelemetry telemetry,
    ILogger<AuditTrail> logger)
{
    public async Task RecordAsync(AccessAudit access, CancellationToken cancellationToken)
    {
        var organisations = registry.Current;
        var entry = new AuditEntry(access, time.GetUtcNow(), options.Value.InstanceId, ods => organisations.Find(ods)?.Kind);
        var started = time.GetTimestamp();
        // A span of its own: the durable append is on every read's way out, so its share of a slow read should show.
        using var activity = GatewayTelemetry.Source.StartActivity("audit append", System.Diagnostics.ActivityKind.Internal);
        try
        {
            await store.AppendAsync(entry, cancellationToken);
            telemetry.RecordAuditWrite(time.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.AuditWriteFailed(logger, access.CorrelationId, ex);
            throw new AuditUnavailableException(ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 500, Level = LogLevel.Critical, Message = "Audit write failed; request {CorrelationId} refused")]
        public static partial void AuditWriteFailed(ILogger logger, string correlationId, Exception exception);
    }
}
