using System.Buffers;

namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>A source sent more than the gateway reads from one answer (<see cref="Federation.FederationOptions.MaxSourceResponseBytes"/>).</summary>
internal sealed class AnswerTooLargeException(long limit)
    : Exception($"answered with more than {limit / 1024} KB, the most the gateway reads from one answer (Federation:MaxSourceResponseBytes)")
{
    public long Limit { get; } = limit;
}

/// <summary>
/// A source's answer, read whole into the gateway's blocks (<see cref="SourceBufferPool"/>, never one large array), each
/// filled to its end, and held until it has been passed on; reading stops, and the answer is refused, the moment it
/// passes the size cap, and waits while the gateway holds as much of other answers as it may.
/// </summary>
internal sealed class SourceAnswer : IAsyncDisposable
{
    private readonly SourceBufferPool _pool;
    private readonly List<byte[]> _blocks = [];
    private AnswerIndex? _first;
    private readonly List<AnswerIndex> _indexes = [];
    private RestrictedLabels? _labels;

    private SourceAnswer(SourceBufferPool pool) => _pool = pool;

    public ReadOnlySequence<byte> Data { get; private set; }

    public static async Task<SourceAnswer> ReadAsync(Stream body, long maxBytes, SourceBufferPool pool, CancellationToken cancellationToken)
    {
        var answer = new SourceAnswer(pool);
        try
        {
            await using (body)
            {
                long total = 0;
                var used = SourceBufferPool.BlockSize;
                while (true)
                {
                    if (used == SourceBufferPool.BlockSize)
                    {
                        answer._blocks.Add(await pool.RentForAnswerAsync(cancellationToken));
                        used = 0;
                    }

                    var read = await body.ReadAsync(answer._blocks[^1].AsMemory(used), cancellationToken);
                    if (read == 0)
                    {
                        break;
                    }

                    used += read;
                    total += read;
                    if (total > maxBytes)
                    {
                        throw new AnswerTooLargeException(maxBytes);
                    }
                }

                answer.Data = BufferSequence.Of(answer._blocks.Select((block, i) => (ReadOnlyMemory<byte>)block.AsMemory(0, i == answer._blocks.Count - 1 ? used : block.Length)));
                return answer;
            }
        }
        catch
        {
            answer.Release();
            throw;
        }
    }

    /// <summary>One resource's bytes as one span: the segment itself when it lies in one, else a pooled copy.</summary>
    public ResourceBytes Slice(EntrySlice entry) => ResourceBytes.From(Data.Slice(entry.Start, entry.Length));

    /// <summary>
    /// The outline of the whole answer, given back with the answer; with <paramref name="labels"/>, its entries' facts
    /// are read in the same pass (and a nested Bundle's, when outlined).
    /// </summary>
    public AnswerPage Index(RestrictedLabels? labels = null)
    {
        _labels = labels;
        return new(Data, Outline(Data)) { Owner = this };
    }

    /// <summary>An outline of part of the answer (a nested Bundle), given back with the answer.</summary>
    internal AnswerIndex Outline(ReadOnlySequence<byte> data)
    {
        var index = AnswerIndex.Read(data, _labels);
        // Nearly every answer is outlined once, by one thread: that one is kept without a lock (a profile found the
        // lock's slow path on every read); only a batch's nested searchsets, outlined in parallel, take it.
        if (Interlocked.CompareExchange(ref _first, index, null) is not null)
        {
            lock (_indexes)
            {
                _indexes.Add(index);
            }
        }

        return index;
    }

    public ValueTask DisposeAsync()
    {
        Release();
        return ValueTask.CompletedTask;
    }

    private void Release()
    {
        Data = ReadOnlySequence<byte>.Empty;
        foreach (var block in _blocks)
        {
            _pool.Return(block);
        }

        _blocks.Clear();
        Interlocked.Exchange(ref _first, null)?.Release();
        lock (_indexes)
        {
            foreach (var index in _indexes)
            {
                index.Release();
            }

            _indexes.Clear();
        }
    }

}

/// <summary>A resource's bytes as one span; returns its pooled copy when disposed.</summary>
internal readonly struct ResourceBytes : IDisposable
{
    private readonly byte[]? _rented;
    private readonly ReadOnlyMemory<byte> _memory;

    private ResourceBytes(byte[]? rented, ReadOnlyMemory<byte> memory)
    {
        _rented = rented;
        _memory = memory;
    }

    public ReadOnlySpan<byte> Span => _memory.Span;

    public ReadOnlyMemory<byte> Memory => _memory;

    public static ResourceBytes From(ReadOnlySequence<byte> bytes)
    {
        if (bytes.IsSingleSegment)
        {
            return new ResourceBytes(null, bytes.First);
        }

        var rented = ArrayPool<byte>.Shared.Rent((int)bytes.Length);
        bytes.CopyTo(rented);
        return new ResourceBytes(rented, rented.AsMemory(0, (int)bytes.Length));
    }

    public void Dispose()
    {
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
        }
    }
}

/// <summary>
/// An answer's outline over the bytes it was read from: the whole answer, or a Bundle nested in one (a batch-response's
/// searchsets), whose entries' offsets are relative to <paramref name="Data"/>.
/// </summary>
internal sealed record AnswerPage(ReadOnlySequence<byte> Data, AnswerIndex Index)
{
    /// <summary>The answer the page was read from, which gives nested outlines back with its own.</summary>
    internal SourceAnswer? Owner { get; init; }

    public ResourceBytes Slice(EntrySlice entry) => ResourceBytes.From(Data.Slice(entry.Start, entry.Length));

    /// <summary>
    /// The facts of the entry's resource: those the outline read (<see cref="AnswerIndex.FactsOf"/>), else read now by
    /// <paramref name="scanner"/>, valid until its next scan.
    /// </summary>
    public ResourceFacts FactsOf(EntrySlice entry, RestrictedLabels labels, FactsScanner scanner)
    {
        if (Index.FactsOf(entry, labels) is { } held)
        {
            return held;
        }

        using var bytes = Slice(entry);
        return scanner.Scan(bytes.Span, labels);
    }

    /// <summary>The Bundle nested as one entry's resource, outlined in turn.</summary>
    public AnswerPage Nested(EntrySlice entry)
    {
        var data = Data.Slice(entry.Start, entry.Length);
        return new AnswerPage(data, Owner?.Outline(data) ?? AnswerIndex.Read(data)) { Owner = Owner };
    }

    public string? Link(string relation) => Index.Links.FirstOrDefault(l => l.Relation == relation).Url;

    /// <summary>The entry's fullUrl as the source wrote it, or null.</summary>
    public string? FullUrlOf(EntrySlice entry)
    {
        if (entry.FullUrlStart < 0)
        {
            return null;
        }

        using var token = ResourceBytes.From(Data.Slice(entry.FullUrlStart, entry.FullUrlLength));
        var reader = new System.Text.Json.Utf8JsonReader(token.Span);
        return reader.Read() ? reader.GetString() : null;
    }
}
