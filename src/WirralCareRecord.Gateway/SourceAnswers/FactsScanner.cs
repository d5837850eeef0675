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
    private readonly StringTable _values = new(512, 256);
    private readonly FactsPool _resources;
    private readonly FactsPool _contained;
    private HashSet<(string? Type, string? Id)> _seen = [];
    private bool _forAnswer;

    private FactsScanner()
    {
        _resources = new FactsPool(_values);
        _contained = new FactsPool(_values);
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
        return ResourceFacts.ScanInto(_resources.Next(), json, labels, this);
    }

    /// <summary>
    /// Reads the facts of the resource whose opening brace <paramref name="reader"/> is on, and holds them until disposed;
    /// returns their number for <see cref="Held"/>.
    /// </summary>
    internal int ScanNext(ref Utf8JsonReader reader, RestrictedLabels labels)
    {
        var number = _resources.Used;
        ResourceFacts.ScanAt(ref reader, _resources.Next(), labels, this);
        return number;
    }

    /// <summary>The facts <see cref="ScanNext"/> read as number <paramref name="number"/>.</summary>
    internal ResourceFacts Held(int number) => _resources[number];

    /// <summary>The resources (type and id) this answer has given so far, so a repeat is kept once; emptied when disposed.</summary>
    public HashSet<(string? Type, string? Id)> Seen => _seen;

    /// <summary>Facts for the next contained resource of the one being scanned.</summary>
    internal ResourceFacts NextContained() => _contained.Next();

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
        _resources.Trim(_forAnswer ? KeptResources : 1, _forAnswer ? KeptCapacityPerResource : KeptCapacity);
        _contained.Trim(KeptCapacity, KeptCapacity);
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

    private void Reset()
    {
        _resources.Reset();
        _contained.Reset();
    }

    /// <summary>
    /// Facts objects handed out in turn and reused: <see cref="Used"/> of them hold facts now. Trimming looks only at the
    /// ones used since the last trim (the rest were trimmed then), so giving back a scanner after a small answer is cheap.
    /// </summary>
    private sealed class FactsPool(StringTable values)
    {
        private readonly List<ResourceFacts> _items = [];
        private int _touched;

        public int Used { get; private set; }

        public ResourceFacts this[int number] => number < Used ? _items[number] : throw new ArgumentOutOfRangeException(nameof(number));

        public ResourceFacts Next()
        {
            if (Used == _items.Count)
            {
                _items.Add(new ResourceFacts { Values = values });
            }

            var facts = _items[Used++];
            _touched = Math.Max(_touched, Used);
            facts.Reset();
            return facts;
        }

        public void Reset()
        {
            for (var i = 0; i < Used; i++)
            {
                _items[i].Reset();
            }

            Used = 0;
        }

        /// <summary>Keeps at most <paramref name="count"/> objects, each with lists of at most <paramref name="capacity"/> items.</summary>
        public void Trim(int count, int capacity)
        {
            for (var i = 0; i < Math.Min(_touched, _items.Count); i++)
            {
                _items[i].Trim(capacity);
            }

            if (_items.Count > count)
            {
                _items.RemoveRange(count, _items.Count - count);
                _items.Capacity = count;
            }

            _touched = 0;
        }
    }
}
