using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.SourceProxy;

/// <summary>Audits a single-source read once, whichever part of the proxy pipeline ends it.</summary>
internal static class SourceReadAudit
{
    private static readonly object AuditedKey = new();

    public static async Task RecordAsync(HttpContext context, AuditTrail audit, CallerIdentity caller, string odsCode, string outcome, int status, string? description, int resources, string? breakGlass = null)
    {
        if (!context.Items.TryAdd(AuditedKey, true))
        {
            return;
        }

        await audit.RecordAsync(
            AccessAudit.For(
                caller,
                AccessKind.SourceRead,
                context.CorrelationId(),
                null,
                $"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}",
                status,
                description,
                [new SourceAuditEntry(odsCode, outcome, resources, 0, 1)],
                breakGlass),
            context.RequestAborted);
    }
}
