using System.Text.Json;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Agreements;
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
    public const string BirthDateParameter = "patientDOB";
    public const string FamilyNameParameter = "patientFamilyName";

    /// <summary>Asks every source, not only those the record locator knows; <c>_sweep</c> is accepted too on GET.</summary>
    public const string SweepParameter = "sweep";
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
    internal sealed record Services(
        FederatedRecordService Federation,
        RecordLocator Locator,
        DemographicsService Demographics,
        AuditTrail Audit,
        TimeProvider Time,
        GatewayTelemetry Telemetry,
        FederationMetrics Metrics,
        IOptions<GatewayAuthenticationOptions> AuthenticationOptions,
        Validation.ISourceAnswerSampler DataQualitySampler,
        PublicBaseAddress PublicBase,
        SourceAnswers.SourceBufferPool Buffers);

    /// <param name="progress">
    /// Told how each source's fetch goes, as it goes (the record page streams it); never given patient data, so it may
    /// reach the caller before the audit is written. The API passes none.
    /// </param>
    internal static async Task<IResult> HandleAsync(HttpContext context, Services services, Func<HttpContext, ValueTask<RecordQuery>> readQuery, IReadProgress? progress = null)
    {
        var caller = CallerIdentity.Of(context, services.AuthenticationOptions.Value)
            ?? throw new InvalidOperationException("The RecordViewer policy lets only signed-in callers through.");
        var correlationId = context.CorrelationId();
        string? nhsNumber = null;
        string? breakGlass = null;
        IReadOnlyList<SourceResult> results = [];
        SourcePlan? plan = null;
        try
        {
            var query = await readQuery(context);
            var check = NhsNumber.Check(query.NhsNumber);
            nhsNumber = check.IsValid ? check.Value : throw new InvalidRequestException(check.Problem!);
            breakGlass = BreakGlass.Validate(query.BreakGlassReason ?? context.Request.Headers[BreakGlass.Header].ToString());
            var notices = new List<OperationOutcome.IssueComponent>();
            if (RecordRules.Objection(services.Federation, nhsNumber!, breakGlass) is { } objected)
            {
                // Checked before any source is asked: an objection means the record is not even fetched.
                notices.Add(objected);
            }

            var granted = services.Federation.SelectSources(caller);
            if (granted.Count == 0)
            {
                throw new NotFoundException($"No organisation shares records with {caller.OdsCode} today, so there is nothing to show.");
            }

            // The locator narrows which of the granted sources are asked; it never adds one the sharing rules do not grant.
            plan = await services.Locator.PlanAsync(granted, caller.OdsCode, nhsNumber!, query.Sweep, correlationId, context.RequestAborted);
            // Whatever happens on the way, a share of what each source contributed is checked for data quality and every
            // source's kept items go back to the pool: once the answer has gone, or (below) once a record is written.
            var held = new List<SourceResult>();
            IReadOnlyList<SourceResult>? merged = null;
            // Once: the merged sources' contributions offered for sampling, then every held source's kept items given back.
            void Release()
            {
                foreach (var r in merged?.Where(r => r.Outcome == SourceOutcome.Returned) ?? [])
                {
                    services.DataQualitySampler.Offer(r.OdsCode, Contributed(r));
                }

                foreach (var r in held)
                {
                    r.Items.Dispose();
                }

                (merged, held) = (null, []);
            }

            context.Response.OnCompleted(() =>
            {
                Release();
                return Task.CompletedTask;
            });
            var fetched = await services.Federation.FetchAsync(plan.Asked, nhsNumber!, correlationId, context.RequestAborted, progress: progress);
            held.AddRange(fetched);
            if (plan.NotAsked.Count > 0 && !fetched.Any(r => r.Outcome == SourceOutcome.Returned))
            {
                // Where the locator's organisations no longer hold the patient (moved, merged), ask everyone before saying "not found".
                var everyoneElse = await services.Federation.FetchAsync(plan.NotAsked, nhsNumber!, correlationId, context.RequestAborted, progress: progress);
                held.AddRange(everyoneElse);
                fetched = [.. fetched, .. everyoneElse];
                plan = plan.ThenEveryone();
            }

            var asked = plan;
            var corroborated = await RecordCorroboration.ApplyAsync(
                fetched,
                query.SuppliedDemographics(),
                cancellationToken => services.Demographics.PatientForReadAsync(asked, nhsNumber!, correlationId, cancellationToken),
                context.RequestAborted);
            results = corroborated.Results;
            merged = results;
            await services.Locator.LearnAsync(nhsNumber!, plan, results, correlationId, context.RequestAborted);
            services.Metrics.RecordRead(plan.Code, results.Count(r => r.Calls > 0));
            if (corroborated.Unresolved)
            {
                throw Unresolved(results);
            }

            if (!results.Any(r => r.Outcome == SourceOutcome.Returned))
            {
                throw NothingReturned(results);
            }

            if (RecordRules.Relationship(services.Federation, results, caller, breakGlass) is { } noRelationship)
            {
                notices.Add(noRelationship);
            }

            var gatewayBase = services.PublicBase.Value;
            if (corroborated.Reference is { } reference)
            {
                // Say what each source's patient was confirmed against, so a clinician can judge what "not included" means.
                notices.Insert(0, Outcomes.Issue(
                    OperationOutcome.IssueSeverity.Information,
                    OperationOutcome.IssueType.Informational,
                    $"Each source's patient was checked against the date of birth and name {reference.Basis}."));
            }

            if (RecordLocator.Notice(plan) is { } howChosen)
            {
                notices.Add(Outcomes.Issue(OperationOutcome.IssueSeverity.Information, OperationOutcome.IssueType.Informational, howChosen));
            }

            // The audit event depends on the results, not on the written Bundle: it is made durable while the Bundle is
            // written, and nothing is sent until both are done. Should writing fail (a fault of the gateway's own), the
            // access stays audited as made, which errs on the side an auditor would want.
            var audited = services.Audit.RecordAsync(Access(context, caller, nhsNumber, StatusCodes.Status200OK, null, results, breakGlass, plan), context.RequestAborted);
            var bundle = new SourceAnswers.PooledBufferWriter(services.Buffers);
            try
            {
                try
                {
                    using var writing = GatewayTelemetry.Source.StartActivity("record bundle", System.Diagnostics.ActivityKind.Internal);
                    RecordBundleBuilder.Write(results, gatewayBase, gatewayBase + context.Request.Path + RequestLimits.SafeQuery(context.Request.Query, [BreakGlass.Parameter]), services.Time.GetUtcNow(), notices, bundle);
                }
                finally
                {
                    // Awaited whatever happened to the writing, so an audit failure is never left unobserved.
                    await audited;
                }
            }
            catch
            {
                bundle.Dispose();
                throw;
            }

            // The Bundle holds its own copy now: what each source contributed is offered to the sampler (which copies
            // only what it chooses, at once) and goes back to the pool before the response is sent, not after.
            Release();
            services.Telemetry.RecordRead(StatusCodes.Status200OK);
            return new RecordAnswer(bundle);
        }
        catch (GatewayException ex) when (ex is not AuditUnavailableException)
        {
            services.Telemetry.RecordRead(ex.StatusCode);
            await services.Audit.RecordAsync(Access(context, caller, nhsNumber, ex.StatusCode, ex.Message, results, breakGlass, plan), context.RequestAborted);
            throw;
        }
    }

    private static IEnumerable<ReadOnlyMemory<byte>> Contributed(SourceResult result)
    {
        yield return FhirJson.SerializeToUtf8(result.Patient!);
        foreach (var item in result.Items.Items)
        {
            yield return item.Json;
        }
    }

    /// <summary>
    /// Sources tied on who the patient is, and neither the demographics service nor the registered practice settled it:
    /// merging either would let organisation codes choose whose record a clinician sees (hazard WCR-H26), so none is
    /// merged and the caller is asked for what they know.
    /// </summary>
    private static GatewayException Unresolved(IReadOnlyList<SourceResult> results) =>
        new(
            StatusCodes.Status409Conflict,
            OperationOutcome.IssueType.MultipleMatches,
            $"The organisations holding a record for this NHS number disagree on the patient's date of birth or family name, and neither the demographics service nor the registered GP practice's record could settle which is this patient's, so no record is shown. Ask again giving {BirthDateParameter} (and {FamilyNameParameter}) as you know them.")
        { ExtraIssues = RecordBundleBuilder.Issues(results) };

    /// <summary>
    /// The request as the gateway's own address, with the query the caller sent except the break-glass reason,
    /// which is the caller's free text and belongs in the audit, not in a link.
    /// </summary>
    private static GatewayException NothingReturned(IReadOnlyList<SourceResult> results)
    {
        var issues = RecordBundleBuilder.Issues(results);
        var unanswered = results.Count(r => r.Outcome is not (SourceOutcome.NoMatch or SourceOutcome.Conflict or SourceOutcome.DemographicsDiffer));
        return unanswered == 0
            ? new NotFoundException("No source organisation holds a record for this NHS number that could be confirmed as this patient's.") { ExtraIssues = issues }
            : new GatewayException(
                StatusCodes.Status502BadGateway,
                OperationOutcome.IssueType.Incomplete,
                $"No record could be returned: {unanswered} of {results.Count} source organisation(s) could not be read, so a record may exist that is not shown. Try again shortly.")
            { ExtraIssues = issues };
    }

    /// <summary>The read's audit event; its request description says how the sources were chosen (the locator, or a sweep) and how many.</summary>
    private static AccessAudit Access(HttpContext context, CallerIdentity caller, string? nhsNumber, int status, string? description, IReadOnlyList<SourceResult> results, string? breakGlass, SourcePlan? plan) =>
        AccessAudit.For(
            caller,
            AccessKind.FederatedRead,
            context.CorrelationId(),
            nhsNumber,
            plan is null ? $"{context.Request.Method} {Path}" : $"{context.Request.Method} {Path} ({plan.AuditNote})",
            status,
            description,
            [.. results.Select(r => new SourceAuditEntry(r.OdsCode, SourceResult.Code(r.Outcome), r.Items.Count, r.Withheld, r.Calls))],
            breakGlass);

    private static ValueTask<RecordQuery> ReadFromQuery(HttpContext context)
    {
        // Also accept the FHIR token form system|value, as a search on identifier would take it.
        var value = Single(context, NhsNumberParameter);
        var bar = value?.IndexOf('|', StringComparison.Ordinal) ?? -1;
        if (bar >= 0)
        {
            RequireNhsSystem(value![..bar]);
            value = value[(bar + 1)..];
        }

        var sweep = Single(context, SweepParameter);
        var underscored = Single(context, "_" + SweepParameter);
        if (sweep is not null && underscored is not null)
        {
            throw new InvalidRequestException($"Give {SweepParameter} or _{SweepParameter}, not both.");
        }

        return ValueTask.FromResult(RecordQuery.Create(value, Single(context, BirthDateParameter), Single(context, FamilyNameParameter), Single(context, BreakGlass.Parameter), sweep ?? underscored));
    }

    private static string? Single(HttpContext context, string name)
    {
        var values = context.Request.Query[name];
        return values.Count > 1
            ? throw new InvalidRequestException($"Give {name} once; it was given {values.Count} times.")
            : values.Count == 1 ? values.ToString() : null;
    }

    private static async ValueTask<RecordQuery> ReadFromBodyAsync(HttpContext context)
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

        var nhsNumber = given[0].Value switch
        {
            Identifier identifier => RequireNhsSystem(identifier.System) ?? identifier.Value,
            FhirString text => text.Value,
            _ => throw new InvalidRequestException($"{NhsNumberParameter} must be a valueIdentifier with system {NhsNumber.System}."),
        };
        return RecordQuery.Create(nhsNumber, Optional(parameters, BirthDateParameter), Optional(parameters, FamilyNameParameter), Optional(parameters, BreakGlass.Parameter), Optional(parameters, SweepParameter));
    }

    private static string? Optional(Parameters parameters, string name)
    {
        var given = parameters.Parameter.Where(p => p.Name == name).ToList();
        return given.Count switch
        {
            0 => null,
            1 => given[0].Value is PrimitiveType primitive ? primitive.ToString() : throw new InvalidRequestException($"{name} must be a simple value."),
            _ => throw new InvalidRequestException($"Give {name} once; it was given {given.Count} times."),
        };
    }

    /// <summary>Throws unless the system is absent or the NHS number system; returns null so it can sit in an expression.</summary>
    private static string? RequireNhsSystem(string? system) =>
        string.IsNullOrEmpty(system) || system == NhsNumber.System
            ? null
            : throw new InvalidRequestException($"{NhsNumberParameter} must use the NHS number system {NhsNumber.System}, not '{system}'.", OperationOutcome.IssueType.CodeInvalid);

    /// <summary>What the caller asked for: the NHS number, and optionally the demographics they know the patient by.</summary>
    internal sealed record RecordQuery(string? NhsNumber, string? BirthDate, string? FamilyName, string? BreakGlassReason, bool Sweep = false)
    {
        public static RecordQuery Create(string? nhsNumber, string? birthDate, string? familyName, string? breakGlassReason, string? sweep = null)
        {
            if (!string.IsNullOrWhiteSpace(birthDate) && !Date.IsValidValue(birthDate.Trim()))
            {
                throw new InvalidRequestException($"{BirthDateParameter} must be a date such as 1958-03-14 (YYYY-MM-DD, or YYYY-MM, or YYYY).");
            }

            var sweepAll = sweep?.Trim().ToLowerInvariant() switch
            {
                null or "" or "false" => false,
                "true" => true,
                _ => throw new InvalidRequestException($"{SweepParameter} must be true or false."),
            };
            return new RecordQuery(nhsNumber, string.IsNullOrWhiteSpace(birthDate) ? null : birthDate.Trim(), string.IsNullOrWhiteSpace(familyName) ? null : familyName.Trim(), breakGlassReason, sweepAll);
        }

        public Demographics? SuppliedDemographics() =>
            BirthDate is null && FamilyName is null ? null : new Demographics(FamilyName, [], BirthDate, null, null, false);
    }
}
