using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace WirralCareRecord.Gateway.Hosting;

/// <summary>
/// OpenTelemetry: one trace per request with a span per source call, W3C trace context passed to sources, and the
/// gateway's metrics. Exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
/// </summary>
public static class TelemetryFeature
{
    /// <summary>Turns tracing on without an OTLP endpoint (for an exporter added in code, as the tests add theirs).</summary>
    public const string TracesKey = "Telemetry:Traces";

    public static IHostApplicationBuilder AddGatewayTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<GatewayTelemetry>();
        var exported = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var telemetry = builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddMeter(GatewayTelemetry.Name)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation());
        // Spans nobody exports cost every request its activities and their tags (measured on the source route); with no
        // tracing, ASP.NET Core still starts an activity per request for the logs, so correlation ids and the
        // traceparent passed to sources are unchanged.
        if (exported || builder.Configuration.GetValue<bool>(TracesKey))
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(GatewayTelemetry.Name)
                // Query strings carry NHS numbers; the instrumentations redact query values by default, and the
                // gateway never turns that off.
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation());
        }

        if (exported)
        {
            telemetry.UseOtlpExporter();
        }

        return builder;
    }
}
