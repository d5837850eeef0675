using System.Diagnostics;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.PatientMatching;
using WirralCareRecord.Gateway.SourceAnswers;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>
/// What one source answered to "do you hold this NHS number" in a background re-sweep: <see cref="SourceOutcome.Located"/>,
/// <see cref="SourceOutcome.NoMatch"/>, <see cref="SourceOutcome.Conflict"/>, or why it could not be asked.
/// </summary>
public sealed record LocateResult(string OdsCode, SourceOutcome Outcome, IReadOnlyList<string> RegisteredPractices, int Calls);

/// <summary>
/// The federated read: chooses the sources this caller may see today and asks them all at once. Every source
/// ends in a <see cref="SourceResult"/>; no source's failure or slowness reaches another's.
/// </summary>
internal sealed partial class FederatedRecordService(
    IOrganisationRegistry registry,
    FhirSourceClient client,
    SourceCapabilities capabilities,
    SourcePipelines pipelines,
    GatewayTelemetry telemetry,
    FederationMetrics metrics,
    IProxyStateLookup proxyState,
    IOptions<FederationOptions> options,
    TimeProvider time,
    ILogger<FederatedRecordService> logger)
{
    public Objection? ObjectionFor(string nhsNumber) => registry.Current.ObjectionFor(nhsNumber);

    /// <summary>Whether this caller's kind of organisation must show a legitimate relationship with the patient.</summary>
    public bool RequiresLegitimateRelationship(CallerIdentity caller) =>
        caller.OdsCode is not null && registry.Current.Find(caller.OdsCode) is { } organisation
        && options.Value.LegitimateRelationshipRequiredFor.Contains(organisation.Kind);

    public bool HasLegitimateRelationship(IReadOnlyList<SourceResult> results, CallerIdentity caller) =>
        LegitimateRelationship.Holds(results, caller.OdsCode!, time.GetUtcNow(), options.Value.LegitimateRelationshipDays);

    public IReadOnlyList<SourceGrant> SelectSources(CallerIdentity caller) =>
        caller.OdsCode is null ? [] : SharingRules.SelectSources(registry.Current, caller.OdsCode, UkDate.Today(time));

    /// <param name="types">The record types to fetch (null: every permitted type; empty: the Patient only, to corroborate).</param>
    /// <param name="progress">Told as each source is asked and as each answers, in the order they answer.</param>
    public async Task<IReadOnlyList<SourceResult>> FetchAsync(IReadOnlyList<SourceGrant> sources, string nhsNumber, string correlationId, CancellationToken cancellationToken, IReadOnlyList<string>? types = null, IReadProgress? progress = null)
    {
        var fetches = sources.Select(grant => FetchOneAsync(grant, nhsNumber, correlationId, types, cancellationToken)).ToArray();
        try
        {
            return await GatherAsync(fetches, sources, progress);
        }
        catch
        {
            // The read was abandoned (the caller went away): what the sources that did answer kept goes back to the
            // pool now, or its share of Federation:MaxBufferedSourceBytes would be lost for good.
            await Task.WhenAll(fetches.Select(fetch => fetch.ContinueWith(
                static done =>
                {
                    if (done.IsCompletedSuccessfully)
                    {
                        done.Result.Items.Dispose();
                    }
                },
                TaskScheduler.Default)));

            throw;
        }
    }

    private async Task<SourceResult[]> GatherAsync(Task<SourceResult>[] fetches, IReadOnlyList<SourceGrant> sources, IReadProgress? progress)
    {
        if (progress is not null)
        {
            // Reported after the fetches have started, so a slow reader of the progress never delays asking a source.
            var started = time.GetTimestamp();
            foreach (var grant in sources)
            {
                await progress.ReportAsync(SourceProgress.Asking(grant));
            }

            await foreach (var done in Task.WhenEach(fetches))
            {
                await progress.ReportAsync(SourceProgress.Of(await done, time.GetElapsedTime(started)));
            }
        }

        // In the order asked, whatever the order of answering, so the combined record does not depend on timing.
        return await Task.WhenAll(fetches);
    }

    private async Task<SourceResult> FetchOneAsync(SourceGrant grant, string nhsNumber, string correlationId, IReadOnlyList<string>? types, CancellationToken cancellationToken)
    {
        // Yield first so one source's synchronous set-up never delays starting the others.
        await Task.Yield();
        using var activity = GatewayTelemetry.Source.StartActivity($"source {grant.Source.OdsCode}", ActivityKind.Internal);
        activity?.SetTag("wcr.source.ods", grant.Source.OdsCode);
        var calls = new CallCounter();
        FetchStrategy? strategy = null;
        var started = time.GetTimestamp();
        if (HealthFeature.StateOf(proxyState, grant.Source.OdsCode) == DestinationHealth.Unhealthy)
        {
            // YARP's probes of its /metadata are failing: say so at once rather than wait out its timeout.
            Finish(activity, grant, SourceOutcome.Unavailable, calls, strategy, started, failed: true);
            return new SourceResult(grant, SourceOutcome.Unavailable, null, SourceAnswers.KeptResources.None, time.GetUtcNow(), "is not answering the gateway's health checks, so it was not asked", 0, 0);
        }

        try
        {
            // The source's timeout and breaker wrap everything, the (usually cached) capability look-up included.
            var result = await pipelines.For(grant.Source).ExecuteAsync(
                async ct =>
                {
                    var capability = await capabilities.ForAsync(grant.Source, correlationId, ct);
                    strategy = capability.StrategyFor([.. (types ?? options.Value.RecordTypes).Where(grant.Permits)]);
                    return await client.FetchRecordAsync(grant, nhsNumber, strategy.Value, correlationId, calls, ct, types);
                },
                cancellationToken);
            Log.SourceAnswered(logger, grant.Source.OdsCode, SourceResult.Code(result.Outcome), calls.Count, time.GetElapsedTime(started).TotalMilliseconds, correlationId);
            Finish(activity, grant, result.Outcome, calls, strategy, started, failed: false);
            return result;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            var (outcome, detail) = ex switch
            {
                SourceFailureException failure => (failure.Outcome, failure.Message),
                SourceBuffersFullException busy => (SourceOutcome.Failed, busy.Message),
                TimeoutRejectedException => (SourceOutcome.TimedOut, $"did not answer within {(grant.Source.Timeout ?? options.Value.SourceTimeout).TotalSeconds:0.##} s"),
                BrokenCircuitException => (SourceOutcome.CircuitOpen, "has been failing, so it was not asked this time; it will be tried again shortly"),
                HttpRequestException => (SourceOutcome.Failed, "could not be reached"),
                _ => (SourceOutcome.Failed, "failed unexpectedly"),
            };
            Log.SourceFailed(logger, grant.Source.OdsCode, SourceResult.Code(outcome), calls.Count, time.GetElapsedTime(started).TotalMilliseconds, correlationId, ex is SourceFailureException or SourceBuffersFullException or TimeoutRejectedException or BrokenCircuitException ? null : ex);
            Finish(activity, grant, outcome, calls, strategy, started, failed: true);
            return new SourceResult(grant, outcome, null, SourceAnswers.KeptResources.None, time.GetUtcNow(), detail, 0, calls.Count);
        }
    }

    /// <summary>
    /// Whether each source holds a patient with this NHS number, by one Patient search each under the source's own
    /// timeout and breaker: the background re-sweep, which fetches no record.
    /// </summary>
    public async Task<IReadOnlyList<LocateResult>> LocateAsync(IReadOnlyList<Organisation> sources, string nhsNumber, string correlationId, CancellationToken cancellationToken) =>
        await Task.WhenAll(sources.Select(async source =>
        {
            await Task.Yield();
            using var activity = GatewayTelemetry.Source.StartActivity($"locate {source.OdsCode}", ActivityKind.Internal);
            activity?.SetTag("wcr.source.ods", source.OdsCode);
            var calls = new CallCounter();
            if (HealthFeature.StateOf(proxyState, source.OdsCode) == DestinationHealth.Unhealthy)
            {
                return new LocateResult(source.OdsCode, SourceOutcome.Unavailable, [], 0);
            }

            try
            {
                var (match, practices) = await pipelines.For(source).ExecuteAsync(
                    async ct => await client.LocateAsync(source, nhsNumber, correlationId, calls, ct),
                    cancellationToken);
                var outcome = match switch
                {
                    MatchOutcome.Match => SourceOutcome.Located,
                    MatchOutcome.Conflict => SourceOutcome.Conflict,
                    _ => SourceOutcome.NoMatch,
                };
                activity?.SetTag("wcr.source.outcome", SourceResult.Code(outcome));
                activity?.SetTag("wcr.source.calls", calls.Count);
                return new LocateResult(source.OdsCode, outcome, practices, calls.Count);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                var outcome = ex switch
                {
                    SourceFailureException failure => failure.Outcome,
                    TimeoutRejectedException => SourceOutcome.TimedOut,
                    BrokenCircuitException => SourceOutcome.CircuitOpen,
                    _ => SourceOutcome.Failed,
                };
                Log.LocateFailed(logger, source.OdsCode, SourceResult.Code(outcome), calls.Count, correlationId, ex is SourceFailureException or SourceBuffersFullException or TimeoutRejectedException or BrokenCircuitException ? null : ex);
                activity?.SetTag("wcr.source.outcome", SourceResult.Code(outcome));
                activity?.SetStatus(ActivityStatusCode.Error);
                return new LocateResult(source.OdsCode, outcome, [], calls.Count);
            }
        }));

    private void Finish(Activity? activity, SourceGrant grant, SourceOutcome outcome, CallCounter calls, FetchStrategy? strategy, long started, bool failed)
    {
        var code = SourceResult.Code(outcome);
        activity?.SetTag("wcr.source.outcome", code);
        activity?.SetTag("wcr.source.calls", calls.Count);
        if (strategy is { } chosen)
        {
            activity?.SetTag("wcr.source.strategy", SourceCapability.Code(chosen));
        }

        metrics.RecordSourceCalls(grant.Source.OdsCode, strategy, calls.Count);
        if (failed)
        {
            activity?.SetStatus(ActivityStatusCode.Error, code);
        }

        telemetry.RecordSource(grant.Source.OdsCode, code, time.GetElapsedTime(started).TotalMilliseconds, failed);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Source {OdsCode} {Outcome} after {Calls} calls in {ElapsedMs:0} ms (correlation {CorrelationId})")]
        public static partial void SourceAnswered(ILogger logger, string odsCode, string outcome, int calls, double elapsedMs, string correlationId);

        [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "Source {OdsCode} {Outcome} after {Calls} calls in {ElapsedMs:0} ms (correlation {CorrelationId})")]
        public static partial void SourceFailed(ILogger logger, string odsCode, string outcome, int calls, double elapsedMs, string correlationId, Exception? exception);

        [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "Source {OdsCode} {Outcome} in a background re-sweep after {Calls} calls (correlation {CorrelationId})")]
        public static partial void LocateFailed(ILogger logger, string odsCode, string outcome, int calls, string correlationId, Exception? exception);
    }
}
