using System.Text.Json;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.PatientMatching;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace WirralCareRecord.Gateway.SourceProxy;

/// <summary>
/// Transforms for source routes. Requests: the caller's token and cookies never go to a source. Responses: the body
/// is read as FHIR, every source address in it (fullUrl, links, references, Location) is rewritten to the gateway's,
/// and the read is audited before a byte goes back; what is not FHIR JSON is replaced by a 502 OperationOutcome.
/// </summary>
internal sealed class SourceResponseTransforms(IOrganisationRegistry registry, AuditTrail audit, SourceObjectionCheck objections, IOptions<GatewayAuthenticationOptions> authentication) : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
        if (context.Route.Metadata?.TryGetValue(SourceRoutes.SourceMetadataKey, out var ods) == true && !OdsCode.IsValid(ods))
        {
            context.Errors.Add(new ArgumentException($"Route {context.Route.RouteId}: metadata {SourceRoutes.SourceMetadataKey} '{ods}' is not an ODS code."));
        }
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        if (context.Route.Metadata?.TryGetValue(SourceRoutes.SourceMetadataKey, out var odsCode) != true || odsCode is null)
        {
            return;
        }

        context.AddRequestHeaderRemove("Authorization");
        context.AddRequestHeaderRemove("Cookie");
        context.AddRequestTransform(request =>
        {
            request.ProxyRequest.Headers.TryAddWithoutValidation("X-Request-ID", request.HttpContext.CorrelationId());
            return ValueTask.CompletedTask;
        });
        context.AddResponseTransform(response => RewriteAndAuditAsync(response, odsCode));
    }

    private async ValueTask RewriteAndAuditAsync(ResponseTransformContext transform, string odsCode)
    {
        var context = transform.HttpContext;
        if (transform.ProxyResponse is not { } upstream)
        {
            return; // Forwarding failed; SourceAccessMiddleware answers and audits.
        }

        var source = registry.Current.Find(odsCode);
        var caller = CallerIdentity.From(context.User, authentication.Value)!;
        var sourceBase = source?.FhirBaseUrl.ToString().TrimEnd('/') ?? "";
        var gatewayBase = GatewayAddresses.SourceBase(GatewayAddresses.BaseOf(context.Request), odsCode);
        transform.SuppressResponseBody = true;

        if (context.Response.Headers.Location.ToString() is { Length: > 0 } location && sourceBase.Length > 0)
        {
            context.Response.Headers.Location = GatewayAddresses.RewriteUrl(location, sourceBase, gatewayBase);
        }

        Resource? resource = null;
        string? problem = null;
        var mediaType = upstream.Content.Headers.ContentType?.MediaType;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            problem = null;
        }
        else if (mediaType is null || !mediaType.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            problem = $"Organisation {odsCode} answered with {mediaType ?? "no content type"}, not FHIR JSON.";
        }
        else
        {
            try
            {
                await using var body = await upstream.Content.ReadAsStreamAsync(context.RequestAborted);
                resource = await JsonSerializer.DeserializeAsync<Resource>(body, FhirJson.Lenient, context.RequestAborted);
                problem = resource is null ? $"Organisation {odsCode} answered with an empty body." : null;
            }
            catch (Exception ex) when (ex is JsonException or DeserializationFailedException)
            {
                problem = $"Organisation {odsCode} answered with JSON that is not valid FHIR.";
            }
        }

        // Restricted items stay out of single-source reads too, or this route would get round the federated read's rule.
        var withheld = false;
        if (resource is Bundle searchResult)
        {
            searchResult.Entry.RemoveAll(e => e.Resource is { } r && RecordSafety.IsRestricted(r));
        }
        else if (resource is not null && RecordSafety.IsRestricted(resource))
        {
            problem = $"This item from organisation {odsCode} is marked restricted and is not shared through the Wirral Care Record.";
            resource = null;
            withheld = true;
        }

        string? breakGlass = null;
        var badRequest = false;
        if (resource is not null && problem is null)
        {
            try
            {
                breakGlass = BreakGlass.Validate(context.Request.Headers[BreakGlass.Header].ToString());
                if (await objections.FindAsync(resource, odsCode, sourceBase, context.CorrelationId(), context.RequestAborted) is { } objection && breakGlass is null)
                {
                    problem = $"This patient has opted out: they objected on {objection.RecordedOn:d MMMM yyyy} to their record being shared through the Wirral Care Record. In an emergency, repeat the request with a break-glass reason in the {BreakGlass.Header} header; the access will be reviewed.";
                    resource = null;
                    withheld = true;
                }
            }
            catch (SourceFailureException failure)
            {
                // Whose record it is could not be established, so an objection cannot be ruled out: fail closed.
                problem = $"Organisation {odsCode} {failure.Message}, so it has not been shown.";
                resource = null;
            }
            catch (InvalidRequestException invalid)
            {
                problem = invalid.Message;
                resource = null;
                badRequest = true;
            }
        }

        var upstreamStatus = context.Response.StatusCode;
        var status = problem is null ? upstreamStatus
            : withheld ? StatusCodes.Status403Forbidden
            : badRequest ? StatusCodes.Status400BadRequest
            : StatusCodes.Status502BadGateway;
        var outcome = withheld || badRequest ? "withheld" : problem is not null ? "unreadable" : upstreamStatus < 400 ? "returned" : upstreamStatus == 404 ? "no-match" : "failed";
        var resources = resource is Bundle bundle ? bundle.Entry.Count(e => e.Resource is not null and not OperationOutcome) : resource is null or OperationOutcome ? 0 : 1;

        // The audit is written before the answer. YARP would report an exception thrown here as a forwarding
        // failure (502), so the 503 for an unwritable audit log is answered here.
        context.Response.Headers.ContentLength = null;
        try
        {
            await SourceReadAudit.RecordAsync(context, audit, caller, odsCode, outcome, status, problem, resources, breakGlass);
        }
        catch (AuditUnavailableException unavailable)
        {
            context.Response.Headers.Location = default;
            await Outcomes.WriteAsync(context, unavailable.StatusCode, Outcomes.Create(unavailable.Code, unavailable.Message, context.CorrelationId()));
            return;
        }

        if (problem is not null)
        {
            await Outcomes.WriteAsync(context, status, Outcomes.Create(withheld ? OperationOutcome.IssueType.Suppressed : badRequest ? OperationOutcome.IssueType.Invalid : OperationOutcome.IssueType.Exception, problem, context.CorrelationId()));
            return;
        }

        if (resource is null)
        {
            return;
        }

        GatewayAddresses.Rewrite(resource, sourceBase, gatewayBase);
        context.Response.ContentType = FhirJson.ContentType;
        await JsonSerializer.SerializeAsync(context.Response.Body, resource, FhirJson.Strict, context.RequestAborted);
    }
}
