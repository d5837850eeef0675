using System.Text.Json;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>
/// <c>Patient/$wcr-getrecord</c>: the combined record for one NHS number, by GET with a query parameter or by POST
/// with a FHIR Parameters body (after GP Connect's <c>$gpc.getstructuredrecord</c>). Audited before it answers.
/// </summary>
internal static class GetRecordEndpoint
{
    public const string Path = "/fhir/Patient/$wcr-getrecord";
    public const string NhsNumberParameter = "patientNHSNumber";
    private const int MaxParametersBytes = 64 * 1024;

    public static IEndpointRouteBuilder MapFederation(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(Path, (HttpContext context, [AsParameters] Services services) => HandleAsync(context, services, ReadFromQuery))
            .RequireAuthorization(Policies.RecordViewer);
        endpoints.MapPost(Path, (HttpContext context, [AsParameters] Services services) => HandleAsync(context, services, ReadFromBodyAsync))
            .RequireAuthorization(Policies.RecordViewer);
        return endpoints;
    }

    /// <summary>What the endpoint needs, resolved once per request.</summary>
    internal sealed record Services(FederatedRecordService Federation, AuditTrail Audit, TimeProvider Time, IOptions<GatewayAuthenticationOptions> AuthenticationOptions);

    private static async Task<IResult> HandleAsync(HttpContext context, Services services, Func<HttpContext, ValueTask<string?>> readNhsNumber)
    {
        var caller = CallerIdentity.From(context.User, services.AuthenticationOptions.Value)
            ?? throw new InvalidOperationException("The RecordViewer policy lets only signed-in callers through.");
        var correlationId = context.CorrelationId();
        string? nhsNumber = null;
        IReadOnlyList<SourceResult> results = [];
        try
        {
            var check = NhsNumber.Check(await readNhsNumber(context));
            nhsNumber = check.IsValid ? check.Value : throw new InvalidRequestException(check.Problem!);

            var sources = services.Federation.SelectSources(caller);
            if (sources.Count == 0)
            {
                throw new NotFoundException($"No organisation shares records with {caller.OdsCode} today, so there is nothing to show.");
            }

            results = await services.Federation.FetchAsync(sources, nhsNumber!, correlationId, context.RequestAborted);
            if (!results.Any(r => r.Outcome == SourceOutcome.Returned))
            {
                throw NothingReturned(results);
            }

            var gatewayBase = GatewayAddresses.BaseOf(context.Request);
            var bundle = RecordBundleBuilder.Build(results, gatewayBase, gatewayBase + context.Request.Path + context.Request.QueryString, services.Time.GetUtcNow());
            await services.Audit.RecordAsync(Access(context, caller, nhsNumber, StatusCodes.Status200OK, null, results), context.RequestAborted);
            return new FhirResult(bundle);
        }
        catch (GatewayException ex) when (ex is not AuditUnavailableException)
        {
            await services.Audit.RecordAsync(Access(context, caller, nhsNumber, ex.StatusCode, ex.Message, results), context.RequestAborted);
            throw;
        }
    }

    private static GatewayException NothingReturned(IReadOnlyList<SourceResult> results)
    {
        var issues = RecordBundleBuilder.Issues(results);
        var unanswered = results.Count(r => r.Outcome is not (SourceOutcome.NoMatch or SourceOutcome.Conflict));
        return unanswered == 0
            ? new NotFoundException("No source organisation holds a record for this NHS number.") { ExtraIssues = issues }
            : new GatewayException(
                StatusCodes.Status502BadGateway,
                OperationOutcome.IssueType.Incomplete,
                $"No record could be returned: {unanswered} of {results.Count} source organisation(s) could not be read, so a record may exist that is not shown. Try again shortly.")
            { ExtraIssues = issues };
    }

    private static AccessAudit Access(HttpContext context, CallerIdentity caller, string? nhsNumber, int status, string? description, IReadOnlyList<SourceResult> results) =>
        AccessAudit.For(
            caller,
            AccessKind.FederatedRead,
            context.CorrelationId(),
            nhsNumber,
            $"{context.Request.Method} {Path}",
            status,
            description,
            [.. results.Select(r => new SourceAuditEntry(r.OdsCode, SourceResult.Code(r.Outcome), r.Resources.Count, r.Withheld, r.Calls))]);

    private static ValueTask<string?> ReadFromQuery(HttpContext context)
    {
        var values = context.Request.Query[NhsNumberParameter];
        if (values.Count > 1)
        {
            throw new InvalidRequestException($"Give {NhsNumberParameter} once; it was given {values.Count} times.");
        }

        // Also accept the FHIR token form system|value, as a search on identifier would take it.
        var value = values.ToString();
        var bar = value.IndexOf('|', StringComparison.Ordinal);
        if (bar >= 0)
        {
            RequireNhsSystem(value[..bar]);
            value = value[(bar + 1)..];
        }

        return ValueTask.FromResult<string?>(value);
    }

    private static async ValueTask<string?> ReadFromBodyAsync(HttpContext context)
    {
        var mediaType = context.Request.ContentType?.Split(';')[0].Trim();
        if (mediaType is not (FhirJson.MediaType or "application/json"))
        {
            throw new GatewayException(
                StatusCodes.Status415UnsupportedMediaType,
                OperationOutcome.IssueType.NotSupported,
                $"Send a FHIR Parameters resource as {FhirJson.MediaType}; the body was {mediaType ?? "of no stated type"}.");
        }

        if (context.Request.ContentLength > MaxParametersBytes)
        {
            throw new GatewayException(StatusCodes.Status413PayloadTooLarge, OperationOutcome.IssueType.TooCostly, "The Parameters body is too large.");
        }

        Resource? resource;
        try
        {
            resource = await JsonSerializer.DeserializeAsync<Resource>(context.Request.Body, FhirJson.Strict, context.RequestAborted);
        }
        catch (DeserializationFailedException ex)
        {
            throw new InvalidRequestException("The body is not a valid FHIR resource: " + string.Join("; ", ex.Exceptions.Select(e => e.Message)), OperationOutcome.IssueType.Structure);
        }
        catch (JsonException)
        {
            throw new InvalidRequestException("The body is not valid JSON.", OperationOutcome.IssueType.Structure);
        }

        if (resource is not Parameters parameters)
        {
            throw new InvalidRequestException($"The body must be a FHIR Parameters resource, not {resource?.TypeName ?? "empty"}.", OperationOutcome.IssueType.Structure);
        }

        var given = parameters.Parameter.Where(p => p.Name == NhsNumberParameter).ToList();
        if (given.Count != 1)
        {
            throw new InvalidRequestException(given.Count == 0
                ? $"The Parameters resource needs a {NhsNumberParameter} parameter (valueIdentifier with system {NhsNumber.System})."
                : $"Give {NhsNumberParameter} once; it was given {given.Count} times.");
        }

        switch (given[0].Value)
        {
            case Identifier identifier:
                RequireNhsSystem(identifier.System);
                return identifier.Value;
            case FhirString text:
                return text.Value;
            default:
                throw new InvalidRequestException($"{NhsNumberParameter} must be a valueIdentifier with system {NhsNumber.System}.");
        }
    }

    private static void RequireNhsSystem(string? system)
    {
        if (!string.IsNullOrEmpty(system) && system != NhsNumber.System)
        {
            throw new InvalidRequestException($"{NhsNumberParameter} must use the NHS number system {NhsNumber.System}, not '{system}'.", OperationOutcome.IssueType.CodeInvalid);
        }
    }
}
