using WirralCareRecord.Gateway.SourceAnswers;

namespace WirralCareRecord.Gateway.Tests.SourceAnswers;

/// <summary>The per-entry lists of an answer: every item kept, in order, across the chunk boundaries, however many there are.</summary>
public sealed class ChunkedListTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(ChunkedList<long>.ChunkLength)]
    [InlineData(ChunkedList<long>.ChunkLength + 1)]
    [InlineData((3 * ChunkedList<long>.ChunkLength) + 7)]
    [InlineData(48_000)]
    public void ItemsComeBackInOrder_ByIndexAndByEnumeration(int count)
    {
        var list = new ChunkedList<long>();
        for (var i = 0; i < count; i++)
        {
            list.Add(i * 3L);
        }

        Assert.Equal(count, list.Count);
        Assert.Equal(Enumerable.Range(0, count).Select(i => i * 3L), list);
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(i * 3L, list[i]);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => list[count]);
        Assert.Throws<ArgumentOutOfRangeException>(() => list[-1]);
    }

    [Fact]
    public void Cleared_StartsAgainEmpty()
    {
        var list = new ChunkedList<int>();
        for (var i = 0; i < 1000; i++)
        {
            list.Add(i);
        }

        list.Clear();
        list.Add(42);

        Assert.Equal([42], list);
        Assert.Single(list);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(ChunkedList<long>.ChunkLength + 1)]
    [InlineData(48_000)]
    public void Pooled_KeepsItemsInOrder_AndEmptiesWhenReleased(int count)
    {
        var list = new ChunkedList<long>(pooled: true);
        for (var i = 0; i < count; i++)
        {
            list.Add(i * 7L);
        }

        Assert.Equal(Enumerable.Range(0, count).Select(i => i * 7L), list);

        list.Release();
        Assert.Empty(list);
        list.Add(5);
        Assert.Equal([5L], list);
    }

    [Fact]
    public void Pooled_ChunkGoesBackClearedOfWhatItHeld()
    {
        // Arrange: an outline's entries hold strings; the pool must not keep them alive for whoever rents the chunk next.
        var list = new ChunkedList<EntrySlice>(pooled: true);
        list.Add(new EntrySlice(10, 20, "include", "200 OK"));

        // Act: the chunk goes back, and this thread's next rent of that size gets it again.
        list.Release();
        var chunk = System.Buffers.ArrayPool<EntrySlice>.Shared.Rent(ChunkedList<EntrySlice>.ChunkLength);

        // Assert
        try
        {
            Assert.All(chunk, slice => Assert.Equal(default, slice));
        }
        finally
        {
            System.Buffers.ArrayPool<EntrySlice>.Shared.Return(chunk);
        }
    }
}
