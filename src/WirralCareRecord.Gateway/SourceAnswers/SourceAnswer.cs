using System.Buffers;
using System.IO.Pipelines;

namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>A source sent more than the gateway reads from one answer (<see cref="Federation.FederationOptions.MaxSourceResponseBytes"/>).</summary>
internal sealed class AnswerTooLargeException(long limit)
    : Exception($"answered with more than {limit / 1024} KB, the most the gateway reads from one answer (Federation:MaxSourceResponseBytes)")
{
    public long Limit { get; } = limit;
}

/// <summary>
/// A source's answer, read whole into pooled buffers (a pipe's segments, never one large array) and held until it has
/// been passed on; reading stops, and the answer is refused, the moment it passes the size cap.
/// </summary>
internal sealed class SourceAnswer : IAsyncDisposable
{
    private readonly PipeReader _reader;

    private SourceAnswer(PipeReader reader, ReadOnlySequence<byte> data)
    {
        _reader = reader;
        Data = data;
    }

    public ReadOnlySequence<byte> Data { get; }

    public static async Task<SourceAnswer> ReadAsync(Stream body, long maxBytes, CancellationToken cancellationToken)
    {
        var reader = PipeReader.Create(body, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: false));
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(cancellationToken);
                if (read.Buffer.Length > maxBytes)
                {
                    throw new AnswerTooLargeException(maxBytes);
                }

                if (read.IsCompleted)
                {
                    return new SourceAnswer(reader, read.Buffer);
                }

                // Nothing is consumed until the whole answer is in: examined to the end, so the next read brings more.
                reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            }
        }
        catch
        {
            await reader.CompleteAsync();
            throw;
        }
    }

    /// <summary>One resource's bytes as one span: the segment itself when it lies in one, else a pooled copy.</summary>
    public ResourceBytes Slice(EntrySlice entry) => ResourceBytes.From(Data.Slice(entry.Start, entry.Length));

    /// <summary>The outline of the whole answer.</summary>
    public AnswerPage Index() => new(Data, AnswerIndex.Read(Data));

    public async ValueTask DisposeAsync() => await _reader.CompleteAsync();
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
    public ResourceBytes Slice(EntrySlice entry) => ResourceBytes.From(Data.Slice(entry.Start, entry.Length));

    /// <summary>The Bundle nested as one entry's resource, outlined in turn.</summary>
    public AnswerPage Nested(EntrySlice entry)
    {
        var data = Data.Slice(entry.Start, entry.Length);
        return new AnswerPage(data, AnswerIndex.Read(data));
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
