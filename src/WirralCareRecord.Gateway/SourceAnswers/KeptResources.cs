
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
    // The pool's writer asked for a resource's whole length at once: it hands out one span, never split across blocks.
    private readonly PooledBufferWriter? _buffer;
    private readonly List<KeptResource> _items;
    private readonly IntArena? _parts;

    private KeptResources() => _items = [];

    /// <param name="capacity">How many resources there are to decide on: at most that many are kept.</param>
    internal KeptResources(SourceBufferPool pool, int capacity = 0)
    {
        _items = new List<KeptResource>(capacity);
        _buffer = new PooledBufferWriter(pool);
        _parts = new IntArena();
    }

    /// <summary>Where the kept resources' <see cref="ItemFacts.Parts"/> are stored, given back with the resources.</summary>
    internal IntArena Parts => _parts ?? throw new InvalidOperationException("KeptResources.None holds nothing.");

    /// <summary>A source that contributed nothing.</summary>
    public static KeptResources None => new();

    public int Count => _items.Count;

    public IReadOnlyList<KeptResource> Items => _items;

    public KeptResource this[int index] => _items[index];

    /// <summary>Copies <paramref name="json"/> (one resource) into the store.</summary>
    internal void Add(ReadOnlySpan<byte> json, ItemFacts facts)
    {
        var buffer = _buffer ?? throw new InvalidOperationException("KeptResources.None holds nothing.");
        var memory = buffer.GetMemory(json.Length)[..json.Length];
        json.CopyTo(memory.Span);
        buffer.Advance(json.Length);
        _items.Add(new KeptResource(memory, facts));
    }

    public void Dispose()
    {
        _items.Clear();
        _buffer?.Dispose();
        _parts?.Dispose();
    }
}
