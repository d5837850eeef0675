using System.Buffers;
using System.Diagnostics;
using System.Threading.Channels;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.SourceAnswers;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>
/// Where the read path hands a source's answer to the data-quality sampler. Both methods return at once: they
/// decide whether this answer is sampled (<see cref="ValidationOptions.SampleShare"/>), and only then copy it onto a
/// bounded queue for a background worker; when the queue is full the sample is dropped and counted. Nothing here
/// can fail or slow a read.
/// </summary>
public interface ISourceAnswerSampler
{
    /// <summary>A source's answer as the bytes it sent (FHIR JSON: a Bundle or one resource).</summary>
    void Offer(string odsCode, ReadOnlySpan<byte> sourceAnswerJson);

    /// <summary>
    /// What a source contributed to a read, one resource's JSON each, enumerated (and copied) only when the answer is
    /// chosen, so an answer not sampled costs nothing; one that is chosen is copied before this returns, so the caller
    /// may give its buffers back at once.
    /// </summary>
    void Offer(string odsCode, IEnumerable<ReadOnlyMemory<byte>> resources);
}

/// <summary>
/// The sampler (<see cref="ISourceAnswerSampler"/>) and its background worker, which validates each sampled answer's
/// resources against their Wirral profiles and records the results in <see cref="DataQualityFigures"/>.
/// <para>
/// What it holds is bounded in bytes as well as in samples (<see cref="ValidationOptions.SampleQueueMaxBytes"/>), and
/// room is checked before anything is copied: under load far more answers are chosen than a worker held to a tenth of
/// a core can validate, and each one copied only to be dropped cost a large-object-heap array. Copies go into 64 KB
/// blocks of the sampler's own pool, so they neither reach that heap nor take room from the reads' buffers. The worker
/// reads one resource at a time from the copy, so only the resource being validated is ever an object graph, never
/// the whole answer across the rests it takes between resources.
/// </para>
/// </summary>
internal sealed class SourceAnswerSampler : BackgroundService, ISourceAnswerSampler
{
    private readonly Channel<Sample> _queue;
    private readonly SourceBufferPool _blocks;
    private readonly ProfileLibrary _library;
    private readonly DataQualityFigures _figures;
    private readonly ValidationOptions _options;
    private readonly ILogger<SourceAnswerSampler> _logger;
    private long _busyTicks;

    public SourceAnswerSampler(ProfileLibrary library, DataQualityFigures figures, IOptions<ValidationOptions> options, ILogger<SourceAnswerSampler> logger)
    {
        _library = library;
        _figures = figures;
        _options = options.Value;
        _logger = logger;
        _blocks = new SourceBufferPool(_options.SampleQueueMaxBytes, TimeSpan.Zero);
        _queue = Channel.CreateBounded<Sample>(new BoundedChannelOptions(_options.SampleQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // with TryWrite: refused when full, so the drop is counted here
        });
    }

    /// <summary>Time the worker has spent validating samples, for the benchmark's CPU share.</summary>
    public TimeSpan BusyTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _busyTicks));

    /// <summary>Samples processed so far.</summary>
    public long Processed => Interlocked.Read(ref _processed);

    /// <summary>Bytes of samples held now, queued or being validated.</summary>
    public long HeldBytes => _blocks.HeldBytes;

    private long _processed;

    public void Offer(string odsCode, ReadOnlySpan<byte> sourceAnswerJson)
    {
        if (sourceAnswerJson.IsEmpty || sourceAnswerJson.Length > _options.SampleMaxBytes || !Chosen())
        {
            return;
        }

        if (!HasRoom(sourceAnswerJson.Length))
        {
            _figures.CountDropped();
            return;
        }

        var copy = new PooledBufferWriter(_blocks);
        copy.Write(sourceAnswerJson);
        Enqueue(odsCode, copy);
    }

    public void Offer(string odsCode, IEnumerable<ReadOnlyMemory<byte>> resources)
    {
        if (!Chosen())
        {
            return;
        }

        if (!HasRoom(0))
        {
            _figures.CountDropped();
            return;
        }

        // The resources become one collection Bundle, which the worker reads like any other answer.
        var copy = new PooledBufferWriter(_blocks);
        copy.Write("{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["u8);
        var count = 0;
        foreach (var resource in resources)
        {
            copy.Write(count++ == 0 ? "{\"resource\":"u8 : ",{\"resource\":"u8);
            copy.Write(resource.Span);
            copy.Write("}"u8);
            if (copy.Length > _options.SampleMaxBytes)
            {
                copy.Dispose();
                return;
            }
        }

        copy.Write("]}"u8);
        if (count == 0)
        {
            copy.Dispose();
            return;
        }

        Enqueue(odsCode, copy);
    }

    private bool HasRoom(long bytes) =>
        _queue.Reader.Count < _options.SampleQueueCapacity && _blocks.HeldBytes + bytes <= _options.SampleQueueMaxBytes;

    private void Enqueue(string odsCode, PooledBufferWriter copy)
    {
        // Checked again with the copy made: offers on other threads may have taken the room meanwhile.
        if (_blocks.HeldBytes > _options.SampleQueueMaxBytes || !_queue.Writer.TryWrite(new Sample(odsCode, copy)))
        {
            copy.Dispose();
            _figures.CountDropped();
        }
    }

    /// <summary>Waits until every sample queued so far has been validated (tests and the benchmark).</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        while (_queue.Reader.Count > 0 || Volatile.Read(ref _working) != 0)
        {
            await Task.Delay(10, cancellationToken);
        }
    }

    private int _working;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_options.SampleShare <= 0)
        {
            return;
        }

        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                Interlocked.Exchange(ref _working, 1);
                while (_queue.Reader.TryRead(out var sample))
                {
                    var started = Stopwatch.GetTimestamp();
                    try
                    {
                        await CheckAsync(sample, stoppingToken);
                    }
                    // Stopping cancels the sample under way: that ends the worker (below) rather than being reported, once
                    // for every sample still queued, as a sample that could not be validated.
                    catch (Exception ex) when (ex is not OutOfMemoryException && !(ex is OperationCanceledException && stoppingToken.IsCancellationRequested))
                    {
                        ValidationLog.SampleFailed(_logger, sample.OdsCode, ex.GetType().Name);
                    }
                    finally
                    {
                        sample.Copy.Dispose();

                        Interlocked.Add(ref _busyTicks, Stopwatch.GetTimestamp() - started);
                        Interlocked.Increment(ref _processed);
                    }
                }

                Interlocked.Exchange(ref _working, 0);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: samples still queued are not needed.
        }
    }

    private bool Chosen()
    {
        var share = _options.SampleShare;
        return share >= 1 || (share > 0 && Random.Shared.NextDouble() < share);
    }

    private async Task CheckAsync(Sample sample, CancellationToken cancellationToken)
    {
        var validation = _library.Validation;
        var answer = BufferSequence.Of(sample.Copy.Chunks());
        var outline = AnswerIndex.Read(answer);
        try
        {
            // Unreadable answers are the federation's to report; the figures are about data the gateway could read.
            if (outline.Malformed)
            {
                return;
            }

            _figures.CountAnswer(sample.OdsCode);
            // A Bundle's outline is its entries' resources; any other answer's is the answer itself.
            for (var i = 0; i < outline.Entries.Count; i++)
            {
                var resource = FhirJson.ReadSourceResource(answer.Slice(outline.Entries[i].Start, outline.Entries[i].Length));
                // The source's own resources: not the OperationOutcomes it adds to say how the search went.
                if (resource is null or OperationOutcome)
                {
                    continue;
                }

                var started = Stopwatch.GetTimestamp();
                _figures.Record(sample.OdsCode, resource.TypeName, validation.Validate(resource));
                await PaceAsync(Stopwatch.GetElapsedTime(started), cancellationToken);
            }
        }
        finally
        {
            outline.Release();
        }
    }

    private TimeSpan _owed;

    /// <summary>
    /// Keeps the worker within <see cref="ValidationOptions.SampleMaxCpuShare"/> of one core: after each resource it rests
    /// long enough that work ÷ (work + rest) stays at the share. A 150-resource answer takes about a second of CPU to
    /// validate; unpaced, that second came out of the cores the reads were using, and reads were 11 to 32 % slower.
    /// What cannot keep up waits in the queue, and past its capacity is dropped and counted.
    /// </summary>
    private async Task PaceAsync(TimeSpan worked, CancellationToken cancellationToken)
    {
        var share = _options.SampleMaxCpuShare;
        if (share >= 1)
        {
            return;
        }

        _owed += worked * ((1 - share) / share);
        // Rests are taken in steps of at least 10 ms: the timer is not finer than a millisecond or so.
        if (_owed >= TimeSpan.FromMilliseconds(10))
        {
            var rest = _owed;
            _owed = TimeSpan.Zero;
            await Task.Delay(rest, cancellationToken);
        }
    }

    private sealed record Sample(string OdsCode, PooledBufferWriter Copy);

    public override void Dispose()
    {
        base.Dispose();
        _blocks.Dispose();
    }
}
