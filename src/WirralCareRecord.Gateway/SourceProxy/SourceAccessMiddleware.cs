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
/// Runs in the YARP pipeline for source routes, before anything is forwarded: the caller may see this source today and
/// this kind of data; the request keeps to the route's contract (<see cref="SourceRouteContract"/>); and the patient it
/// names passes the same rules as the federated read (<see cref="RoutePatientGate"/>). Every refusal is audited, naming
/// the patient when known. Forwarding failures become audited 502/504 OperationOutcomes.
/// </summary>
internal sealed class SourceAccessMiddleware(
    RequestDelegate next,
    IOrganisationRegistry registry,
    AuditTrail audit,
    RoutePatientGate gate,
    PageLinkSigner signer,
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

        var caller = CallerIdentity.Of(context, authentication.Value)
            ?? throw new InvalidOperationException("Source routes carry the RecordViewer policy, which lets only signed-in callers through.");
        var grant = caller.OdsCode is null ? null : SharingRules.Grant(registry.Current, odsCode, caller.OdsCode, UkDate.Today(time));
        if (grant is null)
        {
            await RefuseAsync(context, caller, odsCode, StatusCodes.Status403Forbidden, OperationOutcome.IssueType.Forbidden, $"Organisation {odsCode} does not share records with {caller.OdsCode} today.", null, null);
            return;
        }

        string? breakGlass = null;
        string? nhsNumber = null;
        RouteState state;
        try
        {
            breakGlass = BreakGlass.Validate(context.Request.Headers[BreakGlass.Header].ToString());
            var request = SourceRouteContract.Parse(odsCode, RestOf(context.Request.Path, odsCode), context.Request.Query, context.Request.QueryString.Value ?? "", type => IsReadable(type, grant), signer);
            state = new RouteState(caller, grant, request, breakGlass);
            if (request.Kind is RouteKind.PatientRead or RouteKind.PatientSearch or RouteKind.SignedLink)
            {
                nhsNumber = await gate.NhsNumberOfAsync(grant, request.PatientId!, context.CorrelationId(), context.RequestAborted);
                state.Patient = await gate.AdmitAsync(caller, grant, nhsNumber, request.PatientId, breakGlass, context.CorrelationId(), context.RequestAborted);
            }
            else if (request.Kind is RouteKind.NhsNumberSearch)
            {
                nhsNumber = request.NhsNumber;
                state.Patient = await gate.AdmitAsync(caller, grant, nhsNumber!, null, breakGlass, context.CorrelationId(), context.RequestAborted);
            }
        }
        catch (ForbiddenTypeException forbidden)
        {
            var permitted = string.Join(", ", federation.Value.RecordTypes.Where(grant.Permits));
            await RefuseAsync(context, caller, odsCode, StatusCodes.Status403Forbidden, OperationOutcome.IssueType.Forbidden, $"'{SourceRouteContract.Bounded(forbidden.ResourceType)}' is not a kind of record {odsCode} shares with {caller.OdsCode}: read Patient or one of {permitted}.", null, breakGlass);
            return;
        }
        catch (GatewayException refused) when (refused is not AuditUnavailableException)
        {
            Outcomes.SetRetryAfter(context, refused);
            await RefuseAsync(context, caller, odsCode, refused.StatusCode, refused.Code, refused.Message, nhsNumber, breakGlass);
            return;
        }

        context.Features.Set(state);
        await next(context);

        if (context.GetForwarderErrorFeature() is { } error && !context.Response.HasStarted)
        {
            var timedOut = error.Error is ForwarderError.RequestTimedOut;
            var status = timedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway;
            var message = timedOut
                ? $"Organisation {odsCode} did not answer in time."
                : $"Organisation {odsCode} could not be reached.";
            context.Response.Headers.Clear();
            await RefuseAsync(context, caller, odsCode, status, timedOut ? OperationOutcome.IssueType.Timeout : OperationOutcome.IssueType.Transient, message, state.Patient?.NhsNumber, breakGlass, timedOut ? "timed-out" : "failed");
        }
    }

    /// <summary>Audits the refusal (naming the patient when known), then answers it; an unwritable audit log answers 503 instead.</summary>
    private async Task RefuseAsync(HttpContext context, CallerIdentity caller, string odsCode, int status, OperationOutcome.IssueType code, string message, string? nhsNumber, string? breakGlass, string? outcome = null)
    {
        try
        {
            await SourceReadAudit.RecordAsync(context, audit, caller, odsCode, outcome ?? SourceReadAudit.OutcomeOf(status), status, message, 0, breakGlass, nhsNumber);
        }
        catch (AuditUnavailableException unavailable)
        {
            await Outcomes.WriteAsync(context, unavailable.StatusCode, Outcomes.Create(unavailable.Code, unavailable.Message, context.CorrelationId()));
            return;
        }

        await Outcomes.WriteAsync(context, status, Outcomes.Create(code, message, context.CorrelationId()));
    }

    /// <summary>Single-source reads are limited to what the federated read shares: Patient and the permitted record types (and documents, by the gateway's links).</summary>
    private bool IsReadable(string resourceType, SourceGrant grant) =>
        resourceType is "Patient" or "Binary" || (federation.Value.RecordTypes.Contains(resourceType, StringComparer.Ordinal) && grant.Permits(resourceType));

    private static string RestOf(PathString path, string odsCode)
    {
        var prefix = $"/sources/{odsCode}/fhir";
        var value = path.Value ?? "";
        return value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) ? value[prefix.Length..] : value;
    }
}
