using Hl7.Fhir.Model;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using Yarp.ReverseProxy.Forwarder;

namespace WirralCareRecord.Gateway.SourceProxy;

/// <summary>
/// Runs in the YARP pipeline for source routes: checks, per request, that the caller may see this source today and
/// this kind of data, and turns forwarding failures into audited 502/504 OperationOutcomes.
/// </summary>
internal sealed class SourceAccessMiddleware(
    RequestDelegate next,
    IOrganisationRegistry registry,
    AuditTrail audit,
    TimeProvider time,
    IOptions<FederationOptions> federation,
    IOptions<GatewayAuthenticationOptions> authentication)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var route = context.GetReverseProxyFeature().Route.Config;
        if (route.Metadata?.TryGetValue(SourceRoutes.SourceMetadataKey, out var odsCode) != true || odsCode is null)
        {
            await next(context);
            return;
        }

        var caller = CallerIdentity.From(context.User, authentication.Value)
            ?? throw new InvalidOperationException("Source routes carry the RecordViewer policy, which lets only signed-in callers through.");
        var grant = caller.OdsCode is null ? null : SharingRules.Grant(registry.Current, odsCode, caller.OdsCode, UkDate.Today(time));
        var resourceType = ResourceTypeOf(context.Request.Path, odsCode);
        var refusal = grant is null
            ? $"Organisation {odsCode} does not share records with {caller.OdsCode} today."
            : !IsReadable(resourceType, grant)
                ? $"'{resourceType}' is not a kind of record {odsCode} shares with {caller.OdsCode}: read Patient or one of {string.Join(", ", federation.Value.RecordTypes.Where(grant.Permits))}."
                : null;
        if (refusal is not null)
        {
            await SourceReadAudit.RecordAsync(context, audit, caller, odsCode, "withheld", StatusCodes.Status403Forbidden, refusal, 0);
            await Outcomes.WriteAsync(context, StatusCodes.Status403Forbidden, Outcomes.Create(OperationOutcome.IssueType.Forbidden, refusal, context.CorrelationId()));
            return;
        }

        await next(context);

        if (context.GetForwarderErrorFeature() is { } error && !context.Response.HasStarted)
        {
            var timedOut = error.Error is ForwarderError.RequestTimedOut;
            var status = timedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway;
            var message = timedOut
                ? $"Organisation {odsCode} did not answer in time."
                : $"Organisation {odsCode} could not be reached.";
            await SourceReadAudit.RecordAsync(context, audit, caller, odsCode, timedOut ? "timed-out" : "failed", status, message, 0);
            await Outcomes.WriteAsync(context, status, Outcomes.Create(timedOut ? OperationOutcome.IssueType.Timeout : OperationOutcome.IssueType.Transient, message, context.CorrelationId()));
        }
    }

    /// <summary>Single-source reads are limited to what the federated read shares: Patient and the permitted record types.</summary>
    private bool IsReadable(string? resourceType, SourceGrant grant) =>
        resourceType == "Patient" || (resourceType is not null && federation.Value.RecordTypes.Contains(resourceType, StringComparer.Ordinal) && grant.Permits(resourceType));

    private static string? ResourceTypeOf(PathString path, string odsCode)
    {
        var prefix = $"/sources/{odsCode}/fhir/";
        var value = path.Value ?? "";
        if (!value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var rest = value[prefix.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? rest : rest[..slash];
    }
}
