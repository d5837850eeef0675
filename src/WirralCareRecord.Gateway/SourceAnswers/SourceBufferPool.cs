using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Federation;

namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>
/// The gateway already holds as many bytes of source answers as it may (<see cref="FederationOptions.MaxBufferedSourceBytes"/>)
/// and none came free in time: the gateway is busy, which says nothing about the source.
/// </summary>
internal sealed class SourceBuffersFullException(long budget)
    : Exception($"was not read: the gateway is already holding as much as it may of other answers ({budget / (1024 * 1024)} MB, Federation:MaxBufferedSourceBytes); try again shortly")
{
}

/// <summary>
/// The one pool behind every buffer that holds source bytes: answers as they are read (<see cref="SourceAnswer"/>),
/// what the rules kept (<see cref="KeptResources"/>) and what is written back (<see cref="PooledBufferWriter"/>).
/// <para>
/// Blocks are 64 KB (under the large object heap's threshold), allocated once on the pinned object heap and kept for
/// reuse up to the budget, so a busy gateway stops allocating buffers at all and never leaves them as gen2 garbage for
/// a full collection to find. <c>ArrayPool&lt;byte&gt;.Shared</c> keeps only a few dozen per core; under 64 reads in
/// flight most of its rents were fresh arrays that lived long enough to be promoted.
/// </para>
/// <para>
/// The budget bounds what the gateway holds, and with it what the GC commits, whatever the concurrency: reading an
/// answer waits for room (<see cref="RentForAnswerAsync"/>), and gives up after <see cref="FederationOptions.SourceBufferWait"/>.
/// Kept and written bytes count against the same budget but never wait (<see cref="Rent"/>): they belong to reads
/// already under way, which must be able to finish and give their blocks back, or the waiting could never end.
/// </para>
/// <para>
/// Free blocks no read needed for a whole <see cref="TrimInterval"/> are let go (<see cref="Trim"/>), as Kestrel's own
/// pool does with its blocks: a burst's blocks would otherwise stay pinned for the life of the process.
/// </para>
/// </summary>
internal sealed class SourceBufferPool : IDisposable
{
    public const int BlockSize = 64 * 1024;

    /// <summary>How often free blocks are looked at: one left unused for a whole interval goes (Kestrel's pool waits 10 s too).</summary>
    public static readonly TimeSpan TrimInterval = TimeSpan.FromSeconds(10);

    private readonly ConcurrentQueue<byte[]> _free = new();
    // Woken when room comes back while readers wait; the room itself is the counter below, so the common path takes no lock.
    private readonly SemaphoreSlim _roomReturned = new(0);
    private readonly int _budgetBlocks;
    private readonly TimeSpan _wait;
    private int _retained;
    // The fewest free blocks seen since the last trim: that many were not needed for the whole interval.
    private int _lowWater;
    private readonly ITimer _trimTimer;
    // Blocks of budget not in use; below zero while kept and written bytes overdraw it.
    private int _room;
    private int _waiting;
    private long _held;

    public SourceBufferPool(IOptions<FederationOptions> options, TimeProvider time)
        : this(options.Value.MaxBufferedSourceBytes, options.Value.SourceBufferWait, time)
    {
    }

    public SourceBufferPool(long budgetBytes, TimeSpan wait, TimeProvider? time = null)
    {
        _budgetBlocks = (int)Math.Min(int.MaxValue, Math.Max(1, budgetBytes / BlockSize));
        _room = _budgetBlocks;
        _wait = wait;
        // Held weakly, so the timer alone never keeps a pool (and its blocks) alive that nobody disposed.
        _trimTimer = (time ?? TimeProvider.System).CreateTimer(
            static state =>
            {
                if (((WeakReference<SourceBufferPool>)state!).TryGetTarget(out var pool))
                {
                    pool.Trim();
                }
            },
            new WeakReference<SourceBufferPool>(this),
            TrimInterval,
            TrimInterval);
    }

    /// <summary>Bytes held in rented buffers now: zero whenever no read is under way, or a buffer has leaked.</summary>
    public long HeldBytes => Interlocked.Read(ref _held);

    public long BudgetBytes => (long)_budgetBlocks * BlockSize;

    /// <summary>Bytes of free blocks kept for reuse: with <see cref="HeldBytes"/>, what the pool has on the pinned object heap.</summary>
    public long RetainedBytes => (long)Volatile.Read(ref _retained) * BlockSize;

    /// <summary>A block to read an answer into, once the budget has room for it.</summary>
    public async ValueTask<byte[]> RentForAnswerAsync(CancellationToken cancellationToken)
    {
        if (!TryTakeRoom())
        {
            await WaitForRoomAsync(cancellationToken);
        }

        Interlocked.Add(ref _held, BlockSize);
        return Take();
    }

    private async Task WaitForRoomAsync(CancellationToken cancellationToken)
    {
        var deadline = Environment.TickCount64 + (long)_wait.TotalMilliseconds;
        Interlocked.Increment(ref _waiting);
        try
        {
            // Checked again after registering as waiting: room returned in between would otherwise wake no one.
            while (!TryTakeRoom())
            {
                var left = deadline - Environment.TickCount64;
                if (left <= 0 || !await _roomReturned.WaitAsync(TimeSpan.FromMilliseconds(left), cancellationToken))
                {
                    throw new SourceBuffersFullException(BudgetBytes);
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    private bool TryTakeRoom()
    {
        var room = Volatile.Read(ref _room);
        while (room > 0)
        {
            var seen = Interlocked.CompareExchange(ref _room, room - 1, room);
            if (seen == room)
            {
                return true;
            }

            room = seen;
        }

        return false;
    }

    /// <summary>A buffer of at least <paramref name="minimumLength"/> bytes for kept or written bytes; never waits.</summary>
    public byte[] Rent(int minimumLength)
    {
        // Larger than a block only for one resource bigger than 64 KB: rare, so the shared pool's larger buckets do.
        var array = minimumLength <= BlockSize ? Take() : ArrayPool<byte>.Shared.Rent(minimumLength);
        Interlocked.Add(ref _room, -Units(array));
        Interlocked.Add(ref _held, array.Length);
        return array;
    }

    /// <summary>Gives back a buffer from <see cref="Rent"/> or <see cref="RentForAnswerAsync"/>; it must not be used again.</summary>
    public void Return(byte[] array)
    {
        Interlocked.Add(ref _held, -array.Length);
        // Room overdrawn by kept and written bytes is paid back first: waiting readers see it only once it is above zero.
        if (Interlocked.Add(ref _room, Units(array)) > 0 && Volatile.Read(ref _waiting) > 0)
        {
            _roomReturned.Release();
        }

        if (array.Length != BlockSize)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
        else if (Interlocked.Increment(ref _retained) <= _budgetBlocks)
        {
            _free.Enqueue(array);
        }
        else
        {
            Interlocked.Decrement(ref _retained);
        }
    }

    private byte[] Take()
    {
        if (_free.TryDequeue(out var block))
        {
            var free = Interlocked.Decrement(ref _retained);
            for (var low = Volatile.Read(ref _lowWater); free < low; low = Volatile.Read(ref _lowWater))
            {
                if (Interlocked.CompareExchange(ref _lowWater, free, low) == low)
                {
                    break;
                }
            }

            return block;
        }

        return GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);
    }

    // A block is exactly BlockSize; the shared pool's arrays for larger rents are powers of two from 128 KB up.
    private static int Units(byte[] array) => (int)(((long)array.Length + BlockSize - 1) / BlockSize);

    /// <summary>
    /// Lets go of the free blocks that no read needed since the last trim, and starts counting again from what is left.
    /// A block returned since then is kept until the next trim, so a block goes after one to two idle intervals.
    /// </summary>
    internal void Trim()
    {
        var unused = Math.Min(Volatile.Read(ref _lowWater), Volatile.Read(ref _retained));
        for (var i = 0; i < unused && _free.TryDequeue(out _); i++)
        {
            // No longer referenced: the pinned heap frees it at its next full collection.
            Interlocked.Decrement(ref _retained);
        }

        Volatile.Write(ref _lowWater, Volatile.Read(ref _retained));
    }

    public void Dispose()
    {
        _trimTimer.Dispose();
        _roomReturned.Dispose();
    }
}
