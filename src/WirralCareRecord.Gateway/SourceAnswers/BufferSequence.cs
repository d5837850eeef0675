using System.Buffers;

namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>Pooled chunks, in order, as one <see cref="ReadOnlySequence{T}"/> over them (no copy); empty chunks are left out.</summary>
internal static class BufferSequence
{
    public static ReadOnlySequence<byte> Of(IEnumerable<ReadOnlyMemory<byte>> chunks)
    {
        Segment? first = null, last = null;
        foreach (var chunk in chunks)
        {
            if (chunk.Length > 0)
            {
                last = last is null ? first = new Segment(chunk, 0) : last.Append(chunk);
            }
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
