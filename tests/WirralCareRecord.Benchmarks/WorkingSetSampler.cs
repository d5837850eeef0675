namespace WirralCareRecord.Benchmarks;

/// <summary>
/// A working set sampled every 250 ms in the background, from start to <see cref="StopAsync"/>: the peak of a run
/// comes from these samples, and a soak compares its first and last fifths.
/// </summary>
internal sealed class WorkingSetSampler : IAsyncDisposable
{
    private readonly List<double> _samples = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private WorkingSetSampler(Func<double> sample)
    {
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    var mb = sample();
                    lock (_samples)
                    {
                        _samples.Add(mb);
                    }
                }
                catch (InvalidOperationException)
                {
                    // The process sampled has ended (a gateway out of memory, say): what it reached before stands.
                    return;
                }

                await Task.Delay(250, CancellationToken.None);
            }
        });
    }

    public static WorkingSetSampler Start(Func<double> sample) => new(sample);

    public int Count
    {
        get
        {
            lock (_samples)
            {
                return _samples.Count;
            }
        }
    }

    public IReadOnlyList<double> Samples
    {
        get
        {
            lock (_samples)
            {
                return [.. _samples];
            }
        }
    }

    public double Peak => Samples.DefaultIfEmpty(0).Max();

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }
}
