using System.Collections.Concurrent;
using System.Text.Json;

namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>
/// Reads the facts of one answer's resources, one after another, into the same objects: the facts, their lists and the
/// contained resources' facts are reused, and a reference or identifier value repeated across the answer (the subject on
/// every item, the same encounter, the same organisation) is one string. A read then allocates per resource only what it
/// keeps. Each <see cref="Scan"/> replaces what the last one returned, so the facts are for deciding at once, never for
/// holding; disposing forgets every value, so nothing of one answer stays behind for the next.
/// </summary>
/// <remarks>
/// A scanner rented for an answer's outline (<see cref="RentForAnswer"/>) instead holds every resource's facts
/// (<see cref="ScanNext"/>) until the answer is given back, since the rules decide on them later, once the patient is known.
/// </remarks>
internal sealed class FactsScanner : IDisposable
{
    // One idle scanner per thread: the scans of an answer run on one thread without awaiting, and a scanner rented while
    // another is in use on the same thread (none today) simply gets a new one.
    [ThreadStatic]
    private static FactsScanner? _idle;

    // Answers' scanners live across awaits and threads, so they wait in one shared queue; enough for the answers a busy
    // gateway holds at once, and no more are kept (each holds its answer's worth of facts objects for the next).
    private static readonly ConcurrentQueue<FactsScanner> IdleForAnswers = new();
    private static int _idleForAnswers;
    private const int MaxIdleForAnswers = 32;
    private const int KeptResources = 256;
    private const int KeptCapacityPerResource = 16;

    private const int KeptCapacity = 64;
    private const int MaxKeptSeen = 4096;
    private readonly List<ResourceFacts> _resources = [];
    private readonly List<ResourceFacts> _contained = [];
    private readonly StringTable _values = new(512, 256);
    private HashSet<(string? Type, string? Id)> _seen = [];
    private int _resourcesUsed;
    private int _containedUsed;
    private bool _forAnswer;

    private FactsScanner()
    {
    }

    public static FactsScanner Rent()
    {
        var scanner = _idle ?? new FactsScanner();
        _idle = null;
        return scanner;
    }

    /// <summary>A scanner that holds the facts of all of one answer's resources until disposed with the answer's outline.</summary>
    internal static FactsScanner RentForAnswer()
    {
        if (IdleForAnswers.TryDequeue(out var scanner))
        {
            Interlocked.Decrement(ref _idleForAnswers);
        }
        else
        {
            scanner = new FactsScanner();
        }

        scanner._forAnswer = true;
        return scanner;
    }

    /// <summary>The facts of the resource in <paramref name="json"/>, valid until the next scan or until disposed.</summary>
    public ResourceFacts Scan(ReadOnlySpan<byte> json, RestrictedLabels labels)
    {
        Reset();
        return ResourceFacts.ScanInto(NextResource(), json, labels, this);
    }

    /// <summary>
    /// Reads the facts of the resource whose opening brace <paramref name="reader"/> is on, and holds them until disposed;
    /// returns their number for <see cref="Held"/>.
    /// </summary>
    internal int ScanNext(ref Utf8JsonReader reader, RestrictedLabels labels)
    {
        var number = _resourcesUsed;
        ResourceFacts.ScanAt(ref reader, NextResource(), labels, this);
        return number;
    }

    /// <summary>The facts <see cref="ScanNext"/> read as number <paramref name="number"/>.</summary>
    internal ResourceFacts Held(int number) => number < _resourcesUsed ? _resources[number] : throw new ArgumentOutOfRangeException(nameof(number));

    private ResourceFacts NextResource()
    {
        if (_resourcesUsed == _resources.Count)
        {
            _resources.Add(new ResourceFacts { Values = _values });
        }

        var facts = _resources[_resourcesUsed++];
        facts.Reset();
        return facts;
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
        TrimTo(_resources, _forAnswer ? KeptResources : 1, _forAnswer ? KeptCapacityPerResource : KeptCapacity);
        TrimTo(_contained, KeptCapacity, KeptCapacity);
        if (!_forAnswer)
        {
            _idle = this;
        }
        else if (Interlocked.Increment(ref _idleForAnswers) <= MaxIdleForAnswers)
        {
            IdleForAnswers.Enqueue(this);
        }
        else
        {
            Interlocked.Decrement(ref _idleForAnswers);
        }
    }

    private static void TrimTo(List<ResourceFacts> facts, int count, int capacity)
    {
        if (facts.Count > count)
        {
            facts.RemoveRange(count, facts.Count - count);
            facts.Capacity = count;
        }

        foreach (var item in facts)
        {
            item.Trim(capacity);
        }
    }

    private void Reset()
    {
        for (var i = 0; i < _resourcesUsed; i++)
        {
            _resources[i].Reset();
        }

        for (var i = 0; i < _containedUsed; i++)
        {
            _contained[i].Reset();
        }

        _resourcesUsed = 0;
        _containedUsed = 0;
    }
}
