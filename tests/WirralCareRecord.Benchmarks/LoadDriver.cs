using System.Diagnostics;

namespace WirralCareRecord.Benchmarks;

/// <summary>What a load run saw.</summary>
internal sealed record LoadResult(int Requests, int Failures, TimeSpan Elapsed, IReadOnlyList<double> LatenciesMs)
{
    public double PerSecond => Requests / Elapsed.TotalSeconds;
}

/// <summary>A closed-loop load driver: <c>clients</c> callers, each sending its next request when the last is answered, bounded in time and count.</summary>
internal static class LoadDriver
{
    public static async Task<LoadResult> RunAsync(HttpClient client, Func<int, string> path, int clients, TimeSpan duration, int maxRequests = int.MaxValue)
    {
        var latencies = new List<double>[clients];
        var failures = 0;
        var issued = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
        {
            var mine = latencies[c] = [];
            var sink = new byte[64 * 1024];
            while (clock.Elapsed < duration)
            {
                var n = Interlocked.Increment(ref issued);
                if (n > maxRequests)
                {
                    return;
                }

                var started = Stopwatch.GetTimestamp();
                try
                {
                    // The whole answer is read, into one reused buffer per client: buffering a 600 KB record per
                    // read (ResponseContentRead) put the driver's own large-object allocations into the gateway's GC.
                    using var response = await client.GetAsync(path(n), HttpCompletionOption.ResponseHeadersRead);
                    await using var body = await response.Content.ReadAsStreamAsync();
                    while (await body.ReadAsync(sink) > 0)
                    {
                    }

                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                // An answer cut off mid-body (HttpIOException, an IOException) is a failed read too: a gateway that runs
                // out of memory drops connections, and that is its result, not the driver's.
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
                {
                    Interlocked.Increment(ref failures);
                }

                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }));
        var elapsed = clock.Elapsed;
        var all = latencies.SelectMany(l => l).ToList();
        return new LoadResult(all.Count, failures, elapsed, all);
    }
}

internal static class Stats
{
    public static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var rank = p / 100.0 * (sorted.Length - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    }

    public static double Median(IEnumerable<double> values) => Percentile(values, 50);
}
