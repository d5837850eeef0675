namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>
/// Reads the facts of one answer's resources, one after another, into the same objects: the facts, their lists and the
/// contained resources' facts are reused, and a reference or identifier value repeated across the answer (the subject on
/// every item, the same encounter, the same organisation) is one string. A read then allocates per resource only what it
/// keeps. Each <see cref="Scan"/> replaces what the last one returned, so the facts are for deciding at once, never for
/// holding; disposing forgets every value, so nothing of one answer stays behind for the next.
/// </summary>
internal sealed class FactsScanner : IDisposable
{
    // One idle scanner per thread: the scans of an answer run on one thread without awaiting, and a scanner rented while
    // another is in use on the same thread (none today) simply gets a new one.
    [ThreadStatic]
    private static FactsScanner? _idle;

    private const int KeptCapacity = 64;
    private const int MaxKeptSeen = 4096;
    private readonly ResourceFacts _facts = new();
    private readonly List<ResourceFacts> _contained = [];
    private readonly StringTable _values = new(512, 256);
    private HashSet<(string? Type, string? Id)> _seen = [];
    private int _containedUsed;

    private FactsScanner() => _facts.Values = _values;

    public static FactsScanner Rent()
    {
        var scanner = _idle ?? new FactsScanner();
        _idle = null;
        return scanner;
    }

    /// <summary>The facts of the resource in <paramref name="json"/>, valid until the next scan or until disposed.</summary>
    public ResourceFacts Scan(ReadOnlySpan<byte> json, RestrictedLabels labels)
    {
        Reset();
        return ResourceFacts.ScanInto(_facts, json, labels, this);
    }

    /// <summary>The resources (type and id) this answer has given so far, so a repeat is kept once; emptied when disposed.</summary>
    public HashSet<(string? Type, string? Id)> Seen => _seen;

    /// <summary>Facts for the next contained resource of the one being scanned.</summary>
    internal ResourceFacts NextContained()
    {
        if (_containedUsed == _contained.Count)
        {
            _contained.Add(new ResourceFacts { Values = _values });
        }

        var facts = _contained[_containedUsed++];
        facts.Reset();
        return facts;
    }

    public void Dispose()
    {
        Reset();
        _values.Clear();
        if (_seen.Count > MaxKeptSeen)
        {
            _seen = [];
        }
        else
        {
            _seen.Clear();
        }

        // A hostile answer (a resource of thousands of references or contained resources) must not leave the thread holding
        // lists sized for it.
        _facts.Trim(KeptCapacity);
        if (_contained.Count > KeptCapacity)
        {
            _contained.RemoveRange(KeptCapacity, _contained.Count - KeptCapacity);
            _contained.Capacity = KeptCapacity;
        }

        foreach (var contained in _contained)
        {
            contained.Trim(KeptCapacity);
        }

        _idle = this;
    }

    private void Reset()
    {
        _facts.Reset();
        for (var i = 0; i < _containedUsed; i++)
        {
            _contained[i].Reset();
        }

        _containedUsed = 0;
    }
}
