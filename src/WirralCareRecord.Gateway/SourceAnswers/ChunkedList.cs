using System.Buffers;
using System.Collections;
using System.Runtime.CompilerServices;

namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>
/// A list that grows in chunks of at most <see cref="ChunkLength"/> items instead of one array doubled: the per-entry
/// lists of an answer of tens of thousands of entries (an outline, the decisions) would otherwise be arrays of megabytes
/// on the large object heap, one per read. Small lists cost what a <see cref="List{T}"/> does; a pooled one (an
/// answer's outline, given back with the answer) rents its chunks and costs nothing once the pool is warm.
/// </summary>
/// <param name="pooled">Chunks come from the shared array pool, and go back by <see cref="Release"/>; one never released is only garbage.</param>
internal sealed class ChunkedList<T>(bool pooled = false) : IReadOnlyList<T>
    where T : struct
{
    // 512 items of up to 128 bytes stay under the large object heap's 85,000-byte threshold.
    public const int ChunkLength = 512;

    private readonly List<T[]> _chunks = [];
    private int _count;

    public int Count => _count;

    public T this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _count);
            return _chunks[index / ChunkLength][index % ChunkLength];
        }
    }

    public void Add(T item)
    {
        var offset = _count % ChunkLength;
        if ((offset == 0 && _count > 0) || _chunks.Count == 0)
        {
            // A new chunk: the first starts small, as a list's array would; every later one is whole.
            _chunks.Add(pooled ? ArrayPool<T>.Shared.Rent(ChunkLength) : new T[_chunks.Count == 0 ? 4 : ChunkLength]);
        }
        else if (_chunks.Count == 1 && offset == _chunks[0].Length)
        {
            Array.Resize(ref System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_chunks)[0], Math.Min(ChunkLength, offset * 2));
        }

        _chunks[^1][offset] = item;
        _count++;
    }

    public void Clear()
    {
        Release();
    }

    /// <summary>Empties the list, giving pooled chunks back (cleared of any references they hold).</summary>
    public void Release()
    {
        if (pooled)
        {
            foreach (var chunk in _chunks)
            {
                ArrayPool<T>.Shared.Return(chunk, RuntimeHelpers.IsReferenceOrContainsReferences<T>());
            }
        }

        _chunks.Clear();
        _count = 0;
    }

    public Enumerator GetEnumerator() => new(this);

    IEnumerator<T> IEnumerable<T>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public struct Enumerator(ChunkedList<T> list) : IEnumerator<T>
    {
        private int _index = -1;

        public readonly T Current => list[_index];

        readonly object IEnumerator.Current => Current;

        public bool MoveNext() => ++_index < list._count;

        public void Reset() => _index = -1;

        public readonly void Dispose()
        {
        }
    }
}
