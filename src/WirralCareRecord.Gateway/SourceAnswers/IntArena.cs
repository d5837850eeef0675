using System.Buffers;

namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>
/// Small runs of numbers (a kept resource's parts, <see cref="ItemFacts.Parts"/>) stored side by side in pooled chunks
/// rather than as an array each, and given back together when the resources they describe are done with.
/// </summary>
internal sealed class IntArena : IDisposable
{
    private const int ChunkLength = 4096;
    private readonly List<int[]> _chunks = [];
    private int _used = ChunkLength;

    /// <summary>A copy of <paramref name="values"/>, valid until the arena is disposed.</summary>
    public ReadOnlyMemory<int> Store(ReadOnlySpan<int> values)
    {
        if (values.IsEmpty)
        {
            return ReadOnlyMemory<int>.Empty;
        }

        if (values.Length > ChunkLength - _used)
        {
            // A run longer than a chunk (a resource of over a thousand elements) gets a pooled array of its own.
            _chunks.Add(ArrayPool<int>.Shared.Rent(Math.Max(ChunkLength, values.Length)));
            _used = 0;
        }

        var chunk = _chunks[^1];
        var stored = chunk.AsMemory(_used, values.Length);
        values.CopyTo(stored.Span);
        _used += values.Length;
        return stored;
    }

    public void Dispose()
    {
        foreach (var chunk in _chunks)
        {
            ArrayPool<int>.Shared.Return(chunk);
        }

        _chunks.Clear();
        _used = ChunkLength;
    }
}
