using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Storage;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// The audit log on the Audit blob container: FHIR bulk-data NDJSON in append blobs, one per instance per UTC hour
/// (<see cref="AuditBlobNames"/>), hash-chained (<see cref="AuditChain"/>).
/// </summary>
/// <remarks>
/// Group commit: callers queue their event and wait; a single writer loop takes everything queued, chains it and writes
/// it as one append, then releases every caller in that batch together (or fails them all with the append's exception).
/// While one append is in flight the next batch gathers, so the number of appends follows storage latency, not load.
/// A blob is only ever appended to by the loop that claimed it: after a restart, a failed append (whose fate is
/// unknown, so the chain tail cannot be trusted) or 50,000 appends, the loop claims a new part instead.
/// </remarks>
internal sealed partial class AuditLog : IAuditStore, IAsyncDisposable
{
    /// <summary>Azure's long-standing limit for one append block.</summary>
    internal const int MaxBlockBytes = 4 * 1024 * 1024;

    /// <summary>Hours whose blobs stay open: the current one, and a day's worth for late or back-dated writes.</summary>
    private const int OpenHoursKept = 26;

    private static readonly byte[] NewLine = "\n"u8.ToArray();
    private readonly IBlobStore _store;
    private readonly AuditLogReader _reader;
    private readonly AuditOptions _options;
    private readonly GatewayTelemetry _telemetry;
    private readonly TimeProvider _time;
    private readonly ILogger<AuditLog> _logger;
    private readonly Channel<Pending> _queue;
    private readonly Task _writer;

    // Touched only by the writer loop.
    private readonly Dictionary<(DateOnly Day, int Hour), OpenBlob> _open = [];
    private long _uses;

    // A group commit's block grows past the large object heap's threshold with a few dozen events; one made per batch
    // put a large array on that heap per append and brought on a gen 2 collection every second or so under load.
    private ArrayBufferWriter<byte> _block = new(64 * 1024);
    private readonly ArrayBufferWriter<byte> _line = new(4096);
    private readonly Utf8JsonWriter _json;

    public AuditLog(IBlobStores stores, AuditLogReader reader, IOptions<AuditOptions> options, GatewayTelemetry telemetry, TimeProvider time, ILogger<AuditLog> logger)
    {
        _store = stores[StorageContainer.Audit];
        _reader = reader;
        _options = options.Value;
        _telemetry = telemetry;
        _time = time;
        _logger = logger;
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _json = new Utf8JsonWriter(_line);
        _writer = Task.Run(WriteLoopAsync);
    }

    public async Task AppendAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        var pending = new Pending(entry);
        _telemetry.AuditQueueChanged(1);
        try
        {
            await _queue.Writer.WriteAsync(pending, cancellationToken);
        }
        catch
        {
            _telemetry.AuditQueueChanged(-1);
            throw;
        }

        // Once queued the event will be written whatever the caller does, so waiting is not cancellable: the caller
        // must learn whether it was stored.
        await pending.Stored.Task;
    }

    public Task ProbeAsync(CancellationToken cancellationToken) => _store.ProbeAsync(cancellationToken).WaitAsync(_options.WriteTimeout, _time, cancellationToken);

    public async IAsyncEnumerable<AuditEvent> ReadAsync(DateOnly firstDay, DateOnly lastDay, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var day = firstDay; day <= lastDay; day = day.AddDays(1))
        {
            await foreach (var (_, auditEvent) in _reader.DayAsync(day, null, cancellationToken))
            {
                yield return auditEvent;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Drain: everything already queued is written before the instance goes.
        _queue.Writer.TryComplete();
        await _writer;
        await _json.DisposeAsync();
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<Pending>(_options.MaxBatchEvents);
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (batch.Count < _options.MaxBatchEvents && _queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            _telemetry.AuditQueueChanged(-batch.Count);
            foreach (var hour in batch.GroupBy(p => HourOf(p.Entry)))
            {
                var events = hour.ToList();
                try
                {
                    await WriteHourAsync(hour.Key, events);
                }
                catch (Exception ex)
                {
                    // The loop must outlive any failure, or every later caller would wait for ever.
                    _open.Remove(hour.Key);
                    Log.AppendFailed(_logger, events.Count(p => !p.Stored.Task.IsCompleted), ex);
                    foreach (var pending in events)
                    {
                        pending.Stored.TrySetException(ex);
                    }
                }
            }

            batch.Clear();
            ForgetOldHours();
        }
    }

    private async Task WriteHourAsync((DateOnly Day, int Hour) hour, List<Pending> events)
    {
        var next = 0;
        var block = _block;
        var line = _line;
        var json = _json;
        while (next < events.Count)
        {
            if (!_open.TryGetValue(hour, out var blob) || blob.Appends >= _options.MaxAppendsPerBlob)
            {
                blob = await ClaimNextPartAsync(hour.Day, hour.Hour, blob);
                _open[hour] = blob;
            }

            blob.LastUsed = ++_uses;

            // One block: as many events as fit in an append, each linked to the one before.
            block.ResetWrittenCount();
            var first = next;
            var hash = blob.LastHash;
            while (next < events.Count)
            {
                line.ResetWrittenCount();
                json.Reset(line);
                AuditEventFactory.Write(json, events[next].Entry, hash);
                json.Flush();
                if (next > first && block.WrittenCount + line.WrittenCount + 1 > MaxBlockBytes)
                {
                    break;
                }

                block.Write(line.WrittenSpan);
                block.Write(NewLine);
                hash = AuditChain.HashOf(line.WrittenSpan);
                next++;
            }

            var started = _time.GetTimestamp();
            try
            {
                await Bounded(_store.AppendAsync(blob.Name, new BinaryData(block.WrittenMemory), CancellationToken.None));
            }
            catch (TimeoutException)
            {
                // The abandoned append may still be reading the block: it keeps it, and later batches get a new one.
                _block = new ArrayBufferWriter<byte>(64 * 1024);
                throw;
            }

            blob.LastHash = hash;
            blob.Appends++;
            _telemetry.RecordAuditAppend(next - first, _time.GetElapsedTime(started).TotalMilliseconds);
            for (var i = first; i < next; i++)
            {
                events[i].Stored.TrySetResult();
            }
        }
    }

    /// <summary>
    /// Claims the next unused part for this instance and hour: the first when none is claimed, otherwise one past the
    /// highest. The claim is a create-only write, so of two writers racing for a name exactly one gets it.
    /// </summary>
    private async Task<OpenBlob> ClaimNextPartAsync(DateOnly day, int hour, OpenBlob? current)
    {
        var part = current is null ? -1 : current.Blob.Part;
        if (current is null)
        {
            var claims = await Bounded(_store.ListAsync(AuditBlobNames.ClaimsOf(day, hour, _options.InstanceId), CancellationToken.None).ToListAsync().AsTask());
            foreach (var name in claims)
            {
                if (AuditBlobNames.TryParseClaim(name, out var claimed) && claimed.Instance == _options.InstanceId && claimed.Hour == hour && claimed.Day == day)
                {
                    part = Math.Max(part, claimed.Part);
                }
            }
        }

        var claim = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
        {
            ["instance"] = _options.InstanceId,
            ["claimedAt"] = _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
        });
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            part++;
            var blob = new AuditLogBlob(AuditBlobNames.Log(day, hour, _options.InstanceId, part), day, hour, _options.InstanceId, part);
            try
            {
                await Bounded(_store.WriteAsync(AuditBlobNames.Claim(blob), BinaryData.FromBytes(claim), null, "application/json", CancellationToken.None));
                Log.BlobClaimed(_logger, blob.Name);
                return new OpenBlob(blob);
            }
            catch (StorageConflictException)
            {
                // Another writer with this instance id got there first: take the next part.
            }
        }

        throw new InvalidOperationException($"No free audit log part for {_options.InstanceId} at {day:yyyy-MM-dd} {hour:00}:00.");
    }

    /// <summary>
    /// Waits at most <see cref="AuditOptions.WriteTimeout"/> for a storage call. One that takes longer is left to finish on
    /// its own: its outcome is unknown, so the batch fails and the blob is abandoned, as for any failed append.
    /// </summary>
    private async Task Bounded(Task operation)
    {
        try
        {
            await operation.WaitAsync(_options.WriteTimeout, _time);
        }
        catch (TimeoutException)
        {
            _ = operation.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            throw;
        }
    }

    private async Task<T> Bounded<T>(Task<T> operation)
    {
        await Bounded((Task)operation);
        return await operation;
    }

    /// <summary>Keeps the chains of the few hours most recently written; an hour written again later simply claims a new part.</summary>
    private void ForgetOldHours()
    {
        if (_open.Count <= OpenHoursKept)
        {
            return;
        }

        foreach (var key in _open.OrderByDescending(o => o.Value.LastUsed).Skip(OpenHoursKept).Select(o => o.Key).ToList())
        {
            _open.Remove(key);
        }
    }

    private static (DateOnly Day, int Hour) HourOf(AuditEntry entry)
    {
        var recorded = entry.Recorded.ToUniversalTime();
        return (DateOnly.FromDateTime(recorded.UtcDateTime), recorded.Hour);
    }

    private sealed class Pending(AuditEntry entry)
    {
        public AuditEntry Entry { get; } = entry;

        public TaskCompletionSource Stored { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class OpenBlob(AuditLogBlob blob)
    {
        public AuditLogBlob Blob { get; } = blob;

        public string Name => Blob.Name;

        public byte[] LastHash { get; set; } = AuditChain.Genesis(blob.Name);

        public int Appends { get; set; }

        public long LastUsed { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 501, Level = LogLevel.Information, Message = "Audit log part {Blob} claimed")]
        public static partial void BlobClaimed(ILogger logger, string blob);

        [LoggerMessage(EventId = 502, Level = LogLevel.Error, Message = "Audit append failed; {Events} waiting requests refused, the next write starts a new part")]
        public static partial void AppendFailed(ILogger logger, int events, Exception exception);
    }
}
