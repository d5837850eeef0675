using System.Diagnostics;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Validation;

namespace WirralCareRecord.Benchmarks;

/// <summary>
/// Issue 17: a federated read's latency does not change when the data-quality sampler is on. Two gateways in the
/// process over the same three sources (L = 50 ms, about 150 resources each, as in the fan-out run): one with
/// <c>Validation:SampleShare</c> 0 (sampling off) and one at its default share. After warm-up and a quiet process,
/// one caller's reads alternate between them in blocks of 10, and the p50 and p99 of each are compared.
/// </summary>
internal static class SamplingBench
{
    private const int Block = 10;

    public static async Task<Dictionary<string, double>> RunAsync(BenchPlan plan, BenchResults results)
    {
        await using var sources = await BenchSources.StartAsync(3, Scenarios.L);
        await using var off = await BenchGateway.StartAsync(sources.Servers, new Dictionary<string, string?> { ["Validation:SampleShare"] = "0" });
        await using var on = await BenchGateway.StartAsync(sources.Servers);
        var share = on.Services.GetRequiredService<IOptions<ValidationOptions>>().Value.SampleShare;
        var sampler = on.Services.GetRequiredService<SourceAnswerSampler>();
        using var offClient = await off.ClientAsync();
        using var onClient = await on.ClientAsync();
        var read = $"/fhir/Patient/$wcr-getrecord?patientNHSNumber={sources.Person.NhsNumber}";
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(30));

        for (var i = 0; i < BenchPlan.FanoutWarmup; i++)
        {
            await TimedReadAsync(offClient, read);
            await TimedReadAsync(onClient, read);
        }

        await sampler.DrainAsync(cancel.Token);
        await BenchGateway.WaitUntilQuietAsync();
        var processedBefore = sampler.Processed;
        var busyBefore = sampler.BusyTime;
        var offLatencies = new List<double>();
        var onLatencies = new List<double>();
        var reads = plan.Quick ? 200 : 1000;
        for (var block = 0; block < reads / Block; block++)
        {
            // Which gateway goes first alternates, so neither always follows the other.
            foreach (var sampling in block % 2 == 0 ? new[] { true, false } : [false, true])
            {
                for (var i = 0; i < Block; i++)
                {
                    (sampling ? onLatencies : offLatencies).Add(await TimedReadAsync(sampling ? onClient : offClient, read));
                }

                if (sampling)
                {
                    // Untimed: the samples this block chose are validated while its reads run, or here, never during
                    // the next block of reads without sampling, which would otherwise carry some of their cost.
                    await sampler.DrainAsync(cancel.Token);
                }
            }
        }

        var figures = new Dictionary<string, double>
        {
            ["sampling_default_share"] = share,
            ["sampling_reads_per_side"] = onLatencies.Count,
            ["sampling_off_p50_ms"] = Stats.Percentile(offLatencies, 50),
            ["sampling_off_p99_ms"] = Stats.Percentile(offLatencies, 99),
            ["sampling_on_p50_ms"] = Stats.Percentile(onLatencies, 50),
            ["sampling_on_p99_ms"] = Stats.Percentile(onLatencies, 99),
            ["sampling_answers_validated"] = sampler.Processed - processedBefore,
            ["sampling_worker_busy_ms"] = (sampler.BusyTime - busyBefore).TotalMilliseconds,
        };
        figures["sampling_latency_ratio_p50"] = figures["sampling_on_p50_ms"] / figures["sampling_off_p50_ms"];
        figures["sampling_latency_ratio_p99"] = figures["sampling_on_p99_ms"] / figures["sampling_off_p99_ms"];
        results.Log($"sampling: {onLatencies.Count} reads each, 3 sources at L = {Scenarios.L.TotalMilliseconds:0} ms; off p50 {figures["sampling_off_p50_ms"]:0.0} ms, p99 {figures["sampling_off_p99_ms"]:0.0} ms; on ({share:P0}) p50 {figures["sampling_on_p50_ms"]:0.0} ms, p99 {figures["sampling_on_p99_ms"]:0.0} ms; on ÷ off p50 {figures["sampling_latency_ratio_p50"]:0.000}, p99 {figures["sampling_latency_ratio_p99"]:0.000}; {figures["sampling_answers_validated"]:0} source answers validated in {figures["sampling_worker_busy_ms"]:0} ms of the sampler worker's busy (wall-clock) time");
        return figures;
    }

    private static async Task<double> TimedReadAsync(HttpClient client, string read)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await client.GetAsync(read);
        var body = await response.Content.ReadAsStringAsync();
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Federated read answered {(int)response.StatusCode}: {body[..Math.Min(400, body.Length)]}");
        }

        return elapsed;
    }
}
