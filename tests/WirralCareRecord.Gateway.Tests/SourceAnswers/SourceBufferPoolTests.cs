using System.Buffers;
using System.ComponentModel.DataAnnotations;
using System.Runtime.CompilerServices;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.SourceAnswers;

namespace WirralCareRecord.Gateway.Tests.SourceAnswers;

/// <summary>
/// The one pool behind every buffer of source bytes, and the budget it keeps: answers trickled in a byte at a time,
/// answers over the cap, answers broken off, and readers arriving when kept and written bytes already fill the budget.
/// </summary>
public sealed class SourceBufferPoolTests
{
    private const int Block = SourceBufferPool.BlockSize;

    [Fact]
    public async Task AnswerTrickledInSmallReads_FillsEachBlockToItsEnd_AndGivesEveryBlockBack()
    {
        using var pool = new SourceBufferPool(16 * Block, TimeSpan.Zero);
        var bytes = Bytes((3 * Block) + 1234);

        await using (var answer = await SourceAnswer.ReadAsync(new TrickleStream(bytes, maxRead: 977), bytes.Length, pool, CancellationToken.None))
        {
            Assert.Equal(bytes, answer.Data.ToArray());
            // Four blocks: three full, and 1,234 bytes in the last. A pipe's minimum read left holes at segment ends.
            Assert.Equal(4, Segments(answer.Data));
            Assert.Equal(4L * Block, pool.HeldBytes);
        }

        Assert.Equal(0, pool.HeldBytes);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(Block)]
    [InlineData(2 * Block)]
    [InlineData((2 * Block) + 1)]
    public async Task AnswerOfAnyLength_ReadsBackExactly(int length)
    {
        using var pool = new SourceBufferPool(16 * Block, TimeSpan.Zero);
        var bytes = Bytes(length);

        await using (var answer = await SourceAnswer.ReadAsync(new TrickleStream(bytes, maxRead: Block), Math.Max(1, length), pool, CancellationToken.None))
        {
            Assert.Equal(bytes, answer.Data.ToArray());
        }

        Assert.Equal(0, pool.HeldBytes);
    }

    [Fact]
    public async Task AnswerOverTheCap_IsRefused_AndWhatWasReadGoesBack()
    {
        using var pool = new SourceBufferPool(16 * Block, TimeSpan.Zero);
        var endless = new TrickleStream(Bytes(8 * Block), maxRead: 4096);

        await Assert.ThrowsAsync<AnswerTooLargeException>(() => SourceAnswer.ReadAsync(endless, (2 * Block) + 10, pool, CancellationToken.None));

        Assert.Equal(0, pool.HeldBytes);
        Assert.True(endless.Disposed);
    }

    [Fact]
    public async Task AnswerBrokenOff_WhatWasReadGoesBack()
    {
        using var pool = new SourceBufferPool(16 * Block, TimeSpan.Zero);
        var broken = new TrickleStream(Bytes(3 * Block), maxRead: 8192) { BreakAfter = (2 * Block) + 5 };

        await Assert.ThrowsAsync<IOException>(() => SourceAnswer.ReadAsync(broken, 10 * Block, pool, CancellationToken.None));

        Assert.Equal(0, pool.HeldBytes);
    }

    [Fact]
    public async Task FullBudget_AReaderGivesUpAfterItsWait_WithTheGatewayBusy()
    {
        using var pool = new SourceBufferPool(2 * Block, TimeSpan.Zero);
        var held = new[] { await pool.RentForAnswerAsync(CancellationToken.None), await pool.RentForAnswerAsync(CancellationToken.None) };

        var busy = await Assert.ThrowsAsync<SourceBuffersFullException>(() => SourceAnswer.ReadAsync(new TrickleStream(Bytes(10), 10), 100, pool, CancellationToken.None));

        Assert.Contains("Federation:MaxBufferedSourceBytes", busy.Message, StringComparison.Ordinal);
        Assert.Equal(2L * Block, pool.HeldBytes);
        foreach (var block in held)
        {
            pool.Return(block);
        }

        Assert.Equal(0, pool.HeldBytes);
    }

    [Fact]
    public async Task FullBudget_AWaitingReaderGoesOnAsSoonAsABlockComesBack()
    {
        using var pool = new SourceBufferPool(2 * Block, TimeSpan.FromMinutes(2));
        var held = new[] { await pool.RentForAnswerAsync(CancellationToken.None), await pool.RentForAnswerAsync(CancellationToken.None) };
        var bytes = Bytes(500);

        var reading = SourceAnswer.ReadAsync(new TrickleStream(bytes, 100), 1000, pool, CancellationToken.None);
        await Task.Delay(100);
        Assert.False(reading.IsCompleted);
        pool.Return(held[0]);
        await using (var answer = await reading.WaitAsync(TimeSpan.FromSeconds(30)))
        {
            Assert.Equal(bytes, answer.Data.ToArray());
        }

        pool.Return(held[1]);
        Assert.Equal(0, pool.HeldBytes);
    }

    [Fact]
    public async Task FullBudget_AWaitingReaderStopsWhenItsReadIsCancelled()
    {
        using var pool = new SourceBufferPool(Block, TimeSpan.FromMinutes(2));
        var held = await pool.RentForAnswerAsync(CancellationToken.None);
        using var cancel = new CancellationTokenSource();

        var reading = SourceAnswer.ReadAsync(new TrickleStream(Bytes(10), 10), 100, pool, cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
        pool.Return(held);
        Assert.Equal(0, pool.HeldBytes);
    }

    [Fact]
    public async Task KeptAndWrittenBytes_NeverWait_ButHoldBackReadersUntilTheyAreRepaid()
    {
        using var pool = new SourceBufferPool(2 * Block, TimeSpan.Zero);
        using (var writer = new PooledBufferWriter(pool))
        {
            // Three blocks' worth written under a budget of two: a read under way must always be able to finish.
            writer.Write(Bytes(3 * Block));
            Assert.True(pool.HeldBytes >= 3L * Block);
            await Assert.ThrowsAsync<SourceBuffersFullException>(async () => await pool.RentForAnswerAsync(CancellationToken.None));
        }

        Assert.Equal(0, pool.HeldBytes);
        // The overdraft was repaid first, then the budget came back whole: both blocks can be read into again.
        var first = await pool.RentForAnswerAsync(CancellationToken.None);
        var second = await pool.RentForAnswerAsync(CancellationToken.None);
        await Assert.ThrowsAsync<SourceBuffersFullException>(async () => await pool.RentForAnswerAsync(CancellationToken.None));
        pool.Return(first);
        pool.Return(second);
    }

    [Fact]
    public void AResourceLargerThanABlock_IsKeptWhole_AndCountsForEveryBlockItSpans()
    {
        using var pool = new SourceBufferPool(16 * Block, TimeSpan.Zero);
        var large = Bytes((2 * Block) + 7);
        using (var kept = new KeptResources(pool))
        {
            kept.Add(Bytes(100), Facts("small"));
            kept.Add(large, Facts("large"));

            Assert.Equal(large, kept[1].Json.ToArray());
            Assert.True(pool.HeldBytes >= Block + large.Length);
        }

        Assert.Equal(0, pool.HeldBytes);
    }

    [Fact]
    public void Blocks_AreReused_SoABusyGatewayStopsAllocatingThem()
    {
        using var pool = new SourceBufferPool(16 * Block, TimeSpan.Zero);
        var block = pool.Rent(Block);
        pool.Return(block);

        Assert.Same(block, pool.Rent(100));
        pool.Return(block);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            pool.Return(pool.Rent(Block));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void FreeBlocks_UnusedForAWholeInterval_AreLetGo_AndThoseReadsNeededAreKept()
    {
        var time = new ManualTimers();
        using var pool = new SourceBufferPool(16 * Block, TimeSpan.Zero, time);
        Assert.Equal(SourceBufferPool.TrimInterval, time.Period);
        var burst = Enumerable.Range(0, 10).Select(_ => pool.Rent(Block)).ToList();
        burst.ForEach(pool.Return);
        Assert.Equal(10L * Block, pool.RetainedBytes);

        // The first tick only starts counting: the burst's blocks were returned during this interval.
        time.Tick();
        Assert.Equal(10L * Block, pool.RetainedBytes);

        // Four are needed during the next interval; the other six are not.
        var busy = Enumerable.Range(0, 4).Select(_ => pool.Rent(Block)).ToList();
        busy.ForEach(pool.Return);
        time.Tick();
        Assert.Equal(4L * Block, pool.RetainedBytes);

        // Idle for a whole interval: the last go too, and the budget is untouched.
        time.Tick();
        Assert.Equal(0, pool.RetainedBytes);
        Assert.Equal(0, pool.HeldBytes);
        var again = Enumerable.Range(0, 16).Select(_ => pool.RentForAnswerAsync(CancellationToken.None).AsTask()).ToList();
        Assert.All(again, read => Assert.True(read.IsCompletedSuccessfully));
    }

    [Fact]
    public void DisposedPool_StopsItsTrimTimer()
    {
        var time = new ManualTimers();
        var pool = new SourceBufferPool(16 * Block, TimeSpan.Zero, time);

        pool.Dispose();

        Assert.True(time.Disposed);
    }

    [Fact]
    public void PoolNobodyDisposed_IsNotKeptAliveByItsTrimTimer()
    {
        var pool = Abandoned();

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(pool.TryGetTarget(out _));
    }

    // Made in its own frame, so no local of the test's keeps the pool alive.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference<SourceBufferPool> Abandoned()
    {
        var pool = new SourceBufferPool(16 * Block, TimeSpan.Zero, TimeProvider.System);
        pool.Return(pool.Rent(Block));
        return new WeakReference<SourceBufferPool>(pool);
    }

    [Fact]
    public void BudgetTooSmallForAnAnswerAtTheCap_IsRefusedAtStartUp()
    {
        var options = new FederationOptions { MaxSourceResponseBytes = 32 * 1024 * 1024, MaxBufferedSourceBytes = 32 * 1024 * 1024 };
        var problems = new List<ValidationResult>();

        Assert.False(Validator.TryValidateObject(options, new ValidationContext(options), problems, validateAllProperties: true));
        Assert.Contains(problems, p => p.ErrorMessage!.Contains("Federation:MaxBufferedSourceBytes", StringComparison.Ordinal));
        options.MaxBufferedSourceBytes += Block;
        Assert.True(Validator.TryValidateObject(options, new ValidationContext(options), [], validateAllProperties: true));
    }

    private static ItemFacts Facts(string id) => ItemFacts.Read("""{"resourceType":"Condition","id":"x"}"""u8, "Condition", id)!;

    private static byte[] Bytes(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }

    private static int Segments(ReadOnlySequence<byte> data)
    {
        var count = 0;
        foreach (var _ in data)
        {
            count++;
        }

        return count;
    }

    /// <summary>A clock whose one timer fires only when the test says so.</summary>
    private sealed class ManualTimers : TimeProvider
    {
        private TimerCallback? _callback;
        private object? _state;

        public TimeSpan Period { get; private set; }

        public bool Disposed { get; private set; }

        public void Tick() => _callback!(_state);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            (_callback, _state, Period) = (callback, state, period);
            return new Handle(this);
        }

        private sealed class Handle(ManualTimers owner) : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose() => owner.Disposed = true;

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }

    /// <summary>A body that comes in pieces of at most <paramref name="maxRead"/> bytes, as a slow or chunked source's does.</summary>
    private sealed class TrickleStream(byte[] bytes, int maxRead) : Stream
    {
        private int _position;

        public int BreakAfter { get; init; } = int.MaxValue;

        public bool Disposed { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_position >= BreakAfter)
            {
                throw new IOException("The source broke off its answer.");
            }

            var n = Math.Min(Math.Min(buffer.Length, maxRead), bytes.Length - _position);
            bytes.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}
