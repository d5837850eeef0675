using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.SourceProxy;

/// <summary>Audits a single-source read once, whichever part of the proxy pipeline ends it, naming the patient when known.</summary>
internal static class SourceReadAudit
{
    private static readonly object AuditedKey = new();

    /// <summary>How a refusal of a source read is recorded when nothing more specific is known: by its status.</summary>
    public static string OutcomeOf(int status) => status == StatusCodes.Status404NotFound ? "no-match" : status >= 500 ? "failed" : "withheld";

    public static async Task RecordAsync(HttpContext context, AuditTrail audit, CallerIdentity caller, string odsCode, string outcome, int status, string? description, int resources, string? breakGlass = null, string? nhsNumber = null, int withheld = 0)
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
                nhsNumber,
                $"{context.Request.Method} {context.Request.Path}{Bounded(context.Request.QueryString.Value)}",
                status,
                description,
                [new SourceAuditEntry(odsCode, outcome, resources, withheld, 1)],
                breakGlass),
            context.RequestAborted);
    }

    /// <summary>The query as sent, cut at 2,000 characters: the audit line never grows with what a caller sends.</summary>
    private static string Bounded(string? query) => query is null ? "" : query.Length <= 2000 ? query : query[..2000] + "…";
}
