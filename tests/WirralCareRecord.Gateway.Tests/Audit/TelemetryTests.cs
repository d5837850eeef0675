using System.Net;
using Microsoft.Extensions.DependencyInjection;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Audit;

public sealed class TelemetryTests : IDisposable
{
    private const string Nhs = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);

    [Fact]
    public async Task GetRecord_OneTraceWithASpanPerSourceAndNoPatientIdentifiers()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs, family: "Featherstonehaugh"), ClinicalData.Condition("c1", "gp-1"));
        _acute.AnswerEverything(HttpStatusCode.InternalServerError, "{}", FhirJson.ContentType);
        using var host = new GatewayHost(_issuer, [_gp, _acute]);

        // Tracers listen process-wide and tests run in parallel: pin this request's trace id and look only at it.
        var traceId = System.Diagnostics.ActivityTraceId.CreateRandom();
        var caller = System.Diagnostics.ActivitySpanId.CreateRandom();
        var client = host.CreateClient(_issuer.CreateToken());
        client.DefaultRequestHeaders.Add("traceparent", $"00-{traceId}-{caller}-01");

        var response = await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var spans = host.Spans.Snapshot().Where(s => s.TraceId == traceId).ToList();
        var gp = Assert.Single(spans, s => s.DisplayName == "source N85001");
        var acute = Assert.Single(spans, s => s.DisplayName == "source RBL");
        Assert.Equal("returned", gp.GetTagItem("wcr.source.outcome"));
        Assert.Equal("failed", acute.GetTagItem("wcr.source.outcome"));
        Assert.Equal(System.Diagnostics.ActivityStatusCode.Error, acute.Status);
        // WireMock runs in this process too, so its server spans are here as well: the request's span is the caller's child.
        var request = Assert.Single(spans, s => s.Kind == System.Diagnostics.ActivityKind.Server && s.ParentSpanId == caller);
        Assert.All(new[] { gp, acute }, s => Assert.Equal(request.TraceId, s.TraceId));
        Assert.Contains(_gp.DataRequests, e => CarriesTrace(e, traceId));
        // The request's query is recorded, with its values redacted: the scan below covers it.
        Assert.Contains("patientNHSNumber=Redacted", request.GetTagItem("url.query") as string, StringComparison.Ordinal);
        var everything = spans.SelectMany(s => s.TagObjects.Select(t => $"{t.Key}={t.Value}").Append(s.DisplayName)).ToList();
        Assert.DoesNotContain(everything, text => text.Contains(Nhs, StringComparison.Ordinal) || text.Contains("Featherstonehaugh", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetRecord_TracingOffWithoutAnExporter_TraceContextStillReachesSourcesAndTheAudit()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        _acute.AnswerEverything(HttpStatusCode.NotFound, "{}", FhirJson.ContentType);
        using var host = new GatewayHost(_issuer, [_gp, _acute], settings: new() { [TelemetryFeature.TracesKey] = "false" });
        var traceId = System.Diagnostics.ActivityTraceId.CreateRandom();
        var client = host.CreateClient(_issuer.CreateToken());
        client.DefaultRequestHeaders.Add("traceparent", $"00-{traceId}-{System.Diagnostics.ActivitySpanId.CreateRandom()}-01");

        var response = await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // No tracer: nothing would export its spans, so none are made.
        Assert.Null(host.Services.GetService<OpenTelemetry.Trace.TracerProvider>());
        Assert.DoesNotContain(host.Spans.Snapshot(), s => s.TraceId == traceId);
        // The caller's trace still names the read where it matters: at the sources and in the audit log.
        Assert.Contains(_gp.DataRequests, e => CarriesTrace(e, traceId));
        Assert.Equal(traceId.ToString(), response.RequestId());
        Assert.Contains(host.AuditEvents(), e => e.CorrelationId() == traceId.ToString());
    }

    /// <summary>Whether a request a source received carried the caller's trace in its <c>traceparent</c>.</summary>
    private static bool CarriesTrace(WireMock.Logging.ILogEntry request, System.Diagnostics.ActivityTraceId traceId) =>
        request.RequestMessage!.Headers!.TryGetValue("traceparent", out var value) && value.ToString()!.Contains(traceId.ToString(), StringComparison.Ordinal);

    public void Dispose()
    {
        _gp.Dispose();
        _acute.Dispose();
        _issuer.Dispose();
    }
}
