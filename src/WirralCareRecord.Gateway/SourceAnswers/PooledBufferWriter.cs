using System.Buffers;

namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over the gateway's 64 KB blocks (<see cref="SourceBufferPool"/>): an answer of
/// many megabytes never needs one large array (which would sit on the large object heap), and the blocks go back to
/// the pool when it is disposed.
/// </summary>
internal sealed class PooledBufferWriter(SourceBufferPool pool) : IBufferWriter<byte>, IDisposable
{
    private const int ChunkSize = SourceBufferPool.BlockSize;
    private readonly List<(byte[] Array, int Used)> _chunks = [];
    private byte[]? _current;
    private int _used;

    public long Length { get; private set; }

    public void Advance(int count)
    {
        _used += count;
        Length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => Ensure(sizeHint).AsMemory(_used);

    public Span<byte> GetSpan(int sizeHint = 0) => Ensure(sizeHint).AsSpan(_used);

    private byte[] Ensure(int sizeHint)
    {
        var needed = Math.Max(sizeHint, 1);
        if (_current is null || _current.Length - _used < needed)
        {
            if (_current is not null)
            {
                _chunks.Add((_current, _used));
            }

            _current = pool.Rent(Math.Max(needed, ChunkSize));
            _used = 0;
        }

        return _current;
    }

    /// <summary>Everything written, in order.</summary>
    public IEnumerable<ReadOnlyMemory<byte>> Chunks()
    {
        foreach (var (array, used) in _chunks)
        {
            yield return array.AsMemory(0, used);
        }

        if (_current is not null && _used > 0)
        {
            yield return _current.AsMemory(0, _used);
        }
    }

    public async Task CopyToAsync(Stream destination, CancellationToken cancellationToken)
    {
        foreach (var chunk in Chunks())
        {
            await destination.WriteAsync(chunk, cancellationToken);
        }
    }

    public byte[] ToArray()
    {
        var result = new byte[Length];
        var offset = 0;
        foreach (var chunk in Chunks())
        {
            chunk.Span.CopyTo(result.AsSpan(offset));
            offset += chunk.Length;
        }

        return result;
    }

    public void Dispose()
    {
        foreach (var (array, _) in _chunks)
        {
            pool.Return(array);
        }

        _chunks.Clear();
        if (_current is not null)
        {
            pool.Return(_current);
            _current = null;
        }
    }
}
