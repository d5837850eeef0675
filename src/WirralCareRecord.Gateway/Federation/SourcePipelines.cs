using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;
using Polly.Timeout;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>
/// One resilience pipeline per source: a timeout over the whole fetch, inside a circuit breaker, so a slow source
/// is cut off at its own timeout and a failing one is skipped at once until its break is over.
/// The key includes the timeout so a registry change takes effect without a restart.
/// </summary>
internal sealed class SourcePipelines(IOptions<FederationOptions> options, TimeProvider time, GatewayTelemetry telemetry) : IDisposable
{
    private readonly ResiliencePipelineRegistry<string> _registry = new();

    public ResiliencePipeline For(Organisation source)
    {
        var timeout = source.Timeout ?? options.Value.SourceTimeout;
        return _registry.GetOrAddPipeline($"{source.OdsCode}|{timeout.Ticks}", builder =>
        {
            var o = options.Value;
            builder.TimeProvider = time;
            builder
                .AddCircuitBreaker(new CircuitBreakerStrategyOptions
                {
                    FailureRatio = o.BreakerFailureRatio,
                    MinimumThroughput = o.BreakerMinimumThroughput,
                    SamplingDuration = o.BreakerSamplingDuration,
                    BreakDuration = o.BreakerBreakDuration,
                    // No match or a conflict is a source answering properly; only failures count against it.
                    ShouldHandle = new PredicateBuilder().Handle<SourceFailureException>().Handle<TimeoutRejectedException>().Handle<HttpRequestException>(),
                    OnOpened = _ => Record(source.OdsCode, GatewayTelemetry.BreakerState.Open),
                    OnHalfOpened = _ => Record(source.OdsCode, GatewayTelemetry.BreakerState.HalfOpen),
                    OnClosed = _ => Record(source.OdsCode, GatewayTelemetry.BreakerState.Closed),
                })
                .AddTimeout(timeout);
        });
    }

    private ValueTask Record(string odsCode, GatewayTelemetry.BreakerState state)
    {
        telemetry.RecordBreaker(odsCode, state);
        return ValueTask.CompletedTask;
    }

    public void Dispose() => _registry.Dispose();
}
