using System.Buffers;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.SourceAnswers;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace WirralCareRecord.Gateway.SourceProxy;

/// <summary>
/// Transforms for source routes. Requests: only the checked request is forwarded (<see cref="RouteRequest"/>), with an
/// allow-list of headers; the caller's token, cookies and anything else they sent never reach a source. Responses: the
/// answer is read into pooled buffers under the size cap and the source's timeout, every resource in it (and everything
/// it contains) is decided by the source answer pipeline (<see cref="SourceAnswerFilter"/>), what is kept is copied
/// with the source's addresses rewritten, and the access is audited, naming the patient, before a byte goes back.
/// </summary>
internal sealed class SourceResponseTransforms(
    AuditTrail audit,
    PageLinkSigner signer,
    PublicBaseAddress publicBase,
    TimeProvider time,
    SourceBufferPool buffers,
    IOptions<FederationOptions> federation) : ITransformProvider
{
    private readonly RestrictedLabels _labels = new(federation.Value.RestrictedLabels);

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

        // Allow-lists both ways: a source sees only what the gateway chooses to send, and the caller only what it writes.
        context.CopyRequestHeaders = false;
        // No X-Forwarded-*: they would carry the caller's Host and address to the source.
        context.UseDefaultForwarders = false;
        context.CopyResponseHeaders = false;
        context.CopyResponseTrailers = false;
        context.AddRequestTransform(request =>
        {
            var state = request.HttpContext.Features.Get<RouteState>()
                ?? throw new InvalidOperationException("SourceAccessMiddleware admits every forwarded request first.");
            var forward = state.Request;
            request.ProxyRequest.RequestUri = new Uri(request.DestinationPrefix.TrimEnd('/') + forward.ForwardPath + (forward.ForwardQuery.Length > 0 ? "?" + forward.ForwardQuery : ""));
            request.ProxyRequest.Headers.TryAddWithoutValidation("Accept", state.Request.ResourceType == "Binary" ? "application/fhir+json, application/pdf, text/plain;q=0.9, */*;q=0.1" : FhirJson.MediaType);
            request.ProxyRequest.Headers.TryAddWithoutValidation(HostingFeature.CorrelationHeader, request.HttpContext.CorrelationId());
            if (request.HttpContext.Request.Headers.TraceParent is { Count: 1 } traceParent && traceParent[0] is { Length: <= 64 } parent)
            {
                request.ProxyRequest.Headers.TryAddWithoutValidation("traceparent", parent);
            }

            return ValueTask.CompletedTask;
        });
        context.AddResponseTransform(AnswerAsync);
    }

    private async ValueTask AnswerAsync(ResponseTransformContext transform)
    {
        var context = transform.HttpContext;
        if (transform.ProxyResponse is not { } upstream || context.Features.Get<RouteState>() is not { } state)
        {
            return; // Forwarding failed; SourceAccessMiddleware answers and audits.
        }

        transform.SuppressResponseBody = true;
        context.Response.Headers.Clear();
        using var answer = await AnswerOfAsync(context, upstream, state);
        try
        {
            await SourceReadAudit.RecordAsync(context, audit, state.Caller, state.OdsCode, answer.AuditOutcome, answer.Status, answer.Problem, answer.Kept, state.BreakGlass, state.Patient?.NhsNumber, answer.Withheld);
        }
        catch (AuditUnavailableException unavailable)
        {
            await Outcomes.WriteAsync(context, unavailable.StatusCode, Outcomes.Create(unavailable.Code, unavailable.Message, context.CorrelationId()));
            return;
        }

        if (answer.Outcome is { } outcome)
        {
            if (answer.RetryAfterSeconds is { } seconds)
            {
                context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            await Outcomes.WriteAsync(context, answer.Status, outcome);
            return;
        }

        context.Response.StatusCode = answer.Status;
        context.Response.ContentType = answer.ContentType;
        context.Response.ContentLength = answer.Body!.Length;
        if (answer.Location is { } location)
        {
            context.Response.Headers.Location = location;
        }

        if (answer.ContentType != FhirJson.ContentType)
        {
            // A document from a source is shown, never run: no script, no plug-in, no sniffing it into HTML.
            context.Response.Headers.ContentSecurityPolicy = "sandbox; default-src 'none'";
            context.Response.Headers.XContentTypeOptions = "nosniff";
        }

        await answer.Body.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    /// <summary>Reads and decides the source's answer; nothing has been written to the caller yet.</summary>
    private async Task<RouteAnswer> AnswerOfAsync(HttpContext context, HttpResponseMessage upstream, RouteState state)
    {
        var ods = state.OdsCode;
        var status = (int)upstream.StatusCode;
        if (status == StatusCodes.Status404NotFound || status == StatusCodes.Status410Gone)
        {
            return RouteAnswer.Refused(StatusCodes.Status404NotFound, OperationOutcome.IssueType.NotFound, $"Organisation {ods} has no such item.", "no-match", context);
        }

        if (status is < 200 or >= 300)
        {
            // The source's own error text is not passed on: it may hold patient details or internal addresses.
            return RouteAnswer.Refused(StatusCodes.Status502BadGateway, OperationOutcome.IssueType.Exception, $"Organisation {ods} answered HTTP {status}.", "failed", context);
        }

        var mediaType = upstream.Content.Headers.ContentType?.MediaType;
        var isJson = mediaType is not null && mediaType.Contains("json", StringComparison.OrdinalIgnoreCase);
        var isDocument = state.Request.Kind == RouteKind.SignedLink && state.Request.ResourceType == "Binary";
        if (!isJson && !isDocument)
        {
            return RouteAnswer.Refused(StatusCodes.Status502BadGateway, OperationOutcome.IssueType.Exception, $"Organisation {ods} answered with {Bounded(mediaType) ?? "no content type"}, not FHIR JSON.", "unreadable", context);
        }

        var limit = federation.Value.MaxSourceResponseBytes;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(state.Grant.Source.Timeout ?? federation.Value.SourceTimeout);
        SourceAnswer read;
        try
        {
            if (upstream.Content.Headers.ContentLength > limit)
            {
                throw new AnswerTooLargeException(limit);
            }

            read = await SourceAnswer.ReadAsync(await upstream.Content.ReadAsStreamAsync(timeout.Token), limit, buffers, timeout.Token);
        }
        catch (SourceBuffersFullException)
        {
            return RouteAnswer.Refused(new GatewayBusyException(ods), context);
        }
        catch (AnswerTooLargeException tooLarge)
        {
            return RouteAnswer.Refused(StatusCodes.Status502BadGateway, OperationOutcome.IssueType.TooCostly, $"Organisation {ods} {tooLarge.Message}.", "unreadable", context);
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            return RouteAnswer.Refused(StatusCodes.Status504GatewayTimeout, OperationOutcome.IssueType.Timeout, $"Organisation {ods} did not answer in time.", "timed-out", context);
        }
        catch (IOException)
        {
            return RouteAnswer.Refused(StatusCodes.Status502BadGateway, OperationOutcome.IssueType.Transient, $"Organisation {ods} broke off its answer.", "failed", context);
        }

        await using (read)
        {
            if (!isJson)
            {
                // A document's bytes: the link that led here was signed for this patient's DocumentReference.
                var document = new PooledBufferWriter(buffers);
                foreach (var segment in read.Data)
                {
                    document.Write(segment.Span);
                }

                return RouteAnswer.Document(document, mediaType ?? "application/octet-stream", status);
            }

            return await DecideAsync(context, state, read.Index(_labels), status, upstream);
        }
    }

    private async Task<RouteAnswer> DecideAsync(HttpContext context, RouteState state, AnswerPage page, int status, HttpResponseMessage upstream)
    {
        var ods = state.OdsCode;
        if (page.Index.Malformed || !FhirModelTables.IsKnownResource(page.Index.ResourceType))
        {
            return RouteAnswer.Refused(StatusCodes.Status502BadGateway, OperationOutcome.IssueType.Exception, $"Organisation {ods} answered with JSON that is not valid FHIR.", "unreadable", context);
        }

        var gatewaySourceBase = GatewayAddresses.SourceBase(publicBase.Value, ods);
        var location = new SourceLocation(state.Grant.Source.FhirBaseUrl, gatewaySourceBase);
        if (state.Patient is null)
        {
            // A read by id: whose item it is shows only in the answer. The same rules then apply as to any other request.
            try
            {
                state.Patient = await PatientOfAsync(context, state, page, location);
            }
            catch (GatewayException refused) when (refused is not AuditUnavailableException)
            {
                return RouteAnswer.Refused(refused, context);
            }
        }

        var patientId = state.Patient.SourcePatientId;
        var rewriter = new AddressRewriter(location, local => local.StartsWith("/Binary/", StringComparison.Ordinal) ? signer.Sign(ods, gatewaySourceBase, gatewaySourceBase + local, patientId) : null);
        var scope = new PatientScope(state.Patient.NhsNumber, new HashSet<string>(StringComparer.Ordinal) { patientId }, location, type => type == "Binary" ? state.Request.ResourceType == "Binary" : state.Grant.Permits(type), _labels);
        var decisions = SourceAnswerFilter.Decide(page, scope, binaryByLink: state.Request.ResourceType == "Binary");
        var body = new PooledBufferWriter(buffers);
        try
        {
            return Write(context, state, state.Patient, page, status, upstream, rewriter, decisions, location, body);
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    private RouteAnswer Write(HttpContext context, RouteState state, RoutePatient patient, AnswerPage page, int status, HttpResponseMessage upstream, AddressRewriter rewriter, AnswerDecisions decisions, SourceLocation location, PooledBufferWriter body)
    {
        var ods = state.OdsCode;
        var patientId = patient.SourcePatientId;
        var gatewaySourceBase = GatewayAddresses.SourceBase(publicBase.Value, ods);
        if (!page.Index.IsBundle)
        {
            var single = decisions.Entries.Single();
            if (!single.Kept)
            {
                body.Dispose();
                return RouteAnswer.Refused(StatusCodes.Status403Forbidden, OperationOutcome.IssueType.Suppressed, Withheld(single.Withholding, ods), "withheld", context, withheld: 1);
            }

            SourceAnswerFilter.WriteResource(page, single, rewriter, body);
            var moved = upstream.Headers.Location?.ToString() is { Length: > 0 } given ? rewriter.RewriteText(given) : null;
            return RouteAnswer.Json(body, status, 1, 0, moved);
        }

        var links = new List<(string, string)> { ("self", publicBase.Value + context.Request.Path + context.Request.QueryString) };
        foreach (var (relation, url) in page.Index.Links)
        {
            if (relation is "next" or "previous" or "prev" or "first" or "last" && location.LocalPart(url) is not null)
            {
                links.Add((relation, signer.Sign(ods, gatewaySourceBase, rewriter.RewriteText(url), patientId)));
            }
        }

        SourceAnswerFilter.WriteSearchset(page, decisions, rewriter, links, time.GetUtcNow(), context.CorrelationId(), body, patient.Notices);
        return RouteAnswer.Json(body, status, decisions.Kept, decisions.Withheld, null);
    }

    /// <summary>The patient a single item names on its patient element, admitted by the same rules as any request.</summary>
    private async Task<RoutePatient> PatientOfAsync(HttpContext context, RouteState state, AnswerPage page, SourceLocation location)
    {
        using var bytes = page.Slice(page.Index.Entries[0]);
        var facts = ResourceFacts.Scan(bytes.Span, _labels);
        var elements = facts.ResourceType is null ? [] : FhirModelTables.PatientElementsOf(facts.ResourceType);
        var named = facts.References.Where(r => r.Direct && Array.IndexOf(elements, r.RootElement) >= 0).ToList();
        var cannotTell = new GatewayException(StatusCodes.Status502BadGateway, OperationOutcome.IssueType.Incomplete, $"Organisation {state.OdsCode} could not confirm whose record this is, so it has not been shown.");
        if (named.Count != 1)
        {
            throw cannotTell;
        }

        // Resolved per request, not injected: the gate reaches YARP's proxy state (source health), and YARP builds its
        // transforms while building that state, so a constructor dependency would be a cycle the container cannot see.
        var gate = context.RequestServices.GetRequiredService<RoutePatientGate>();
        var reference = named[0];
        if (reference.Reference is { } value && !value.StartsWith('#'))
        {
            var relative = value.Contains("://", StringComparison.Ordinal) ? location.LocalPart(value)?.TrimStart('/') : value;
            if (relative is null || DisclosurePolicy.PatientIdOf(relative) is not { } patientId)
            {
                throw cannotTell;
            }

            var nhsNumber = await gate.NhsNumberOfAsync(state.Grant, patientId, context.CorrelationId(), context.RequestAborted);
            return await gate.AdmitAsync(state.Caller, state.Grant, nhsNumber, patientId, state.BreakGlass, context.CorrelationId(), context.RequestAborted);
        }

        if (reference.IdentifierSystem == PatientMatching.NhsNumber.System && PatientMatching.NhsNumber.Check(reference.IdentifierValue) is { IsValid: true } check)
        {
            return await gate.AdmitAsync(state.Caller, state.Grant, check.Value!, null, state.BreakGlass, context.CorrelationId(), context.RequestAborted);
        }

        throw cannotTell;
    }

    private static string Withheld(Withholding reason, string ods) => reason switch
    {
        Withholding.Restricted => $"This item from organisation {ods} is marked restricted (on it or on something it contains) and is not shared through the Wirral Care Record.",
        Withholding.OutsideAgreement => $"This kind of item from organisation {ods} is outside the sharing agreement.",
        Withholding.NotThisPatient => $"This item from organisation {ods} could not be confirmed as this patient's, or names someone else, so it is not shown.",
        _ => $"This item from organisation {ods} could not be checked, so it is not shown.",
    };

    private static string? Bounded(string? text) => text is null ? null : SourceRouteContract.Bounded(text);

    /// <summary>The decided answer: an OperationOutcome, or a body held in pooled buffers, with what the audit records.</summary>
    private sealed class RouteAnswer : IDisposable
    {
        public int Status { get; private init; }

        public OperationOutcome? Outcome { get; private init; }

        public string? Problem { get; private init; }

        public string AuditOutcome { get; private init; } = "returned";

        public PooledBufferWriter? Body { get; private init; }

        public string ContentType { get; private init; } = FhirJson.ContentType;

        public string? Location { get; private init; }

        public int Kept { get; private init; }

        public int Withheld { get; private init; }

        public static RouteAnswer Refused(int status, OperationOutcome.IssueType code, string message, string auditOutcome, HttpContext context, int withheld = 0) => new()
        {
            Status = status,
            Outcome = Outcomes.Create(code, message, context.CorrelationId()),
            Problem = message,
            AuditOutcome = auditOutcome,
            Withheld = withheld,
        };

        public static RouteAnswer Refused(GatewayException refused, HttpContext context) => new()
        {
            Status = refused.StatusCode,
            Outcome = Outcomes.Create(refused.Code, refused.Message, context.CorrelationId()),
            Problem = refused.Message,
            AuditOutcome = SourceReadAudit.OutcomeOf(refused.StatusCode),
            RetryAfterSeconds = refused.RetryAfterSeconds,
        };

        public int? RetryAfterSeconds { get; private init; }

        public static RouteAnswer Json(PooledBufferWriter body, int status, int kept, int withheld, string? location) => new()
        {
            Status = status,
            Body = body,
            Kept = kept,
            Withheld = withheld,
            Location = location,
            AuditOutcome = kept == 0 && withheld > 0 ? "withheld" : "returned",
        };

        public static RouteAnswer Document(PooledBufferWriter body, string mediaType, int status) => new()
        {
            Status = status,
            Body = body,
            Kept = 1,
            ContentType = mediaType,
        };

        public void Dispose() => Body?.Dispose();
    }
}
