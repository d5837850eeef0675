
namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>
/// One resource a source sent that the rules kept, as the source's bytes (addresses not yet rewritten), with the few
/// facts the combined record needs about it: its type and id (the entry's fullUrl), what makes it the same item as
/// another source's (<see cref="ItemFacts.SameItemKey"/>) and, for encounters and episodes, where and when they happened.
/// </summary>
public readonly record struct KeptResource(ReadOnlyMemory<byte> Json, ItemFacts Facts)
{
    public string ResourceType => Facts.ResourceType;

    public string Id => Facts.Id;
}

/// <summary>
/// The resources one source contributed to a read, copied out of its answers into pooled chunks so the answers can go
/// back to the pool as soon as the source is done. Each resource sits whole in one chunk, so it can be handed out as
/// one span. Disposed when the combined record has been written.
/// </summary>
public sealed class KeptResources : IDisposable
{
    private const int ChunkSize = SourceBufferPool.BlockSize;
    private readonly SourceBufferPool? _pool;
    private readonly List<byte[]> _chunks = [];
    private readonly List<KeptResource> _items = [];
    private byte[]? _current;
    private int _used;

    private KeptResources()
    {
    }

    internal KeptResources(SourceBufferPool pool) => _pool = pool;

    /// <summary>A source that contributed nothing.</summary>
    public static KeptResources None => new();

    public int Count => _items.Count;

    public IReadOnlyList<KeptResource> Items => _items;

    public KeptResource this[int index] => _items[index];

    /// <summary>Copies <paramref name="json"/> (one resource) into the store.</summary>
    internal void Add(ReadOnlySpan<byte> json, ItemFacts facts)
    {
        var pool = _pool ?? throw new InvalidOperationException("KeptResources.None holds nothing.");
        if (_current is null || _current.Length - _used < json.Length)
        {
            if (_current is not null)
            {
                _chunks.Add(_current);
            }

            // A resource larger than a chunk gets a chunk of its own size: it is never split.
            _current = pool.Rent(Math.Max(json.Length, ChunkSize));
            _used = 0;
        }

        json.CopyTo(_current.AsSpan(_used));
        _items.Add(new KeptResource(_current.AsMemory(_used, json.Length), facts));
        _used += json.Length;
    }

    public void Dispose()
    {
        _items.Clear();
        foreach (var chunk in _chunks)
        {
            _pool!.Return(chunk);
        }

        _chunks.Clear();
        if (_current is not null)
        {
            _pool!.Return(_current);
            _current = null;
        }
    }
}
