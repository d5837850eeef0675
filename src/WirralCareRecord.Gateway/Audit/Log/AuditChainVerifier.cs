using System.Globalization;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>Where a blob's chain first fails, and how.</summary>
/// <param name="EventId">The id of the event on that line, when the line can be read at all.</param>
internal sealed record ChainBreak(string Blob, int Line, string? EventId, string Problem);

/// <summary>
/// A blob whose last line was cut short: an append interrupted when its instance stopped mid-write. The callers waiting
/// on that append were never answered (they are released only once an append completes), and a restarted writer
/// claims a new part rather than append after it, so the chain before it stands and is not reported as broken.
/// </summary>
internal sealed record TornTail(string Blob, int Line, int Bytes);

/// <summary>The result of checking one day's log.</summary>
internal sealed record ChainVerification(DateOnly Day, int Blobs, int Events, IReadOnlyList<ChainBreak> Breaks, IReadOnlyList<TornTail> TornTails);

/// <summary>
/// Recomputes every blob's hash chain for a day and reports the first break in each. Once a day is rolled up its
/// roll-up also holds each blob's line count and last line's hash, so removing a blob's last lines, editing its last
/// line (which no later link covers) or deleting a whole blob after that is caught too.
/// </summary>
internal sealed class AuditChainVerifier(AuditLogReader reader, AuditRollups rollups)
{
    public async Task<ChainVerification> VerifyAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var blobs = await reader.BlobsAsync(day, cancellationToken);
        var checkpoints = (await rollups.StoredAsync(day, cancellationToken))?.Blobs.ToDictionary(b => b.Name, StringComparer.Ordinal);
        var breaks = new List<ChainBreak>();
        var torn = new List<TornTail>();
        var events = 0;
        foreach (var blob in blobs)
        {
            var (lines, tail) = WithoutTornTail(blob, await reader.LinesAsync(blob, cancellationToken));
            if (tail is not null)
            {
                torn.Add(tail);
            }

            events += lines.Count(l => !l.IsEmpty);
            var found = FirstBreak(blob, lines);
            if (found is null && checkpoints?.Remove(blob.Name, out var checkpoint) == true)
            {
                found = AgainstCheckpoint(blob, lines, checkpoint);
            }

            checkpoints?.Remove(blob.Name);
            if (found is not null)
            {
                breaks.Add(found);
            }
        }

        foreach (var missing in checkpoints?.Values ?? Enumerable.Empty<BlobCheckpoint>())
        {
            breaks.Add(new ChainBreak(missing.Name, 1, null, Text($"The blob held {missing.Lines} line(s) when the day was rolled up and is now missing.")));
        }

        return new ChainVerification(day, blobs.Count, events, breaks, torn);
    }

    /// <summary>
    /// The blob's lines without an unfinished last append: a last line with no newline after it that is not a whole JSON
    /// resource. Anything else, a damaged line with lines after it included, is left to the chain check, which reports it
    /// as a break. The roll-up's checkpoints count lines the same way, so the two agree on where a blob ends.
    /// </summary>
    public static (IReadOnlyList<AuditLine> Lines, TornTail? Torn) WithoutTornTail(AuditLogBlob blob, IReadOnlyList<AuditLine> lines) =>
        lines is [.., { Terminated: false, IsEmpty: false } last] && !AuditChain.TryReadLink(last.Bytes, out _, out _)
            ? ([.. lines.Take(lines.Count - 1)], new TornTail(blob.Name, last.Number, last.Bytes.Length))
            : (lines, null);

    private static ChainBreak? FirstBreak(AuditLogBlob blob, IReadOnlyList<AuditLine> lines)
    {
        var expected = AuditChain.Genesis(blob.Name);
        string? previousId = null;
        foreach (var line in lines)
        {
            var n = line.Number;
            if (line.IsEmpty)
            {
                return new ChainBreak(blob.Name, n, null, Text($"Line {n} is empty: a line was removed or the blob was edited."));
            }

            if (!AuditChain.TryReadLink(line.Bytes, out var id, out var previous))
            {
                return new ChainBreak(blob.Name, n, null, Text($"Line {n} is not a JSON resource: it was damaged or edited."));
            }

            if (previous is null)
            {
                return new ChainBreak(blob.Name, n, id, Text($"Line {n} (event {id}) carries no chain link: it was not written by the gateway's audit writer."));
            }

            if (!previous.AsSpan().SequenceEqual(expected))
            {
                return new ChainBreak(blob.Name, n, id, n == 1
                    ? Text($"Line 1 (event {id}) does not start this blob's chain: the blob was renamed or replaced, or lines before it were removed.")
                    : Text($"Line {n} (event {id}) does not follow line {n - 1} (event {previousId}): line {n - 1} was altered, or lines were removed or inserted between them, or line {n}'s link was edited."));
            }

            expected = AuditChain.HashOf(line.Bytes.Span);
            previousId = id;
        }

        return null;
    }

    private static ChainBreak? AgainstCheckpoint(AuditLogBlob blob, IReadOnlyList<AuditLine> lines, BlobCheckpoint checkpoint)
    {
        if (lines.Count < checkpoint.Lines)
        {
            return new ChainBreak(blob.Name, lines.Count + 1, null, Text($"The blob held {checkpoint.Lines} line(s) when the day was rolled up and now holds {lines.Count}: lines were removed from its end."));
        }

        if (checkpoint.Lines > 0)
        {
            var last = lines[checkpoint.Lines - 1];
            if (Convert.ToHexStringLower(AuditChain.HashOf(last.Bytes.Span)) != checkpoint.LastHash)
            {
                AuditChain.TryReadLink(last.Bytes, out var id, out _);
                return new ChainBreak(blob.Name, last.Number, id, Text($"Line {last.Number} (event {id}) differs from the blob's last line when the day was rolled up: it was altered."));
            }
        }

        return lines.Count > checkpoint.Lines
            ? new ChainBreak(blob.Name, checkpoint.Lines + 1, null, Text($"The blob has {lines.Count - checkpoint.Lines} line(s) more than when the day was rolled up: they were added afterwards."))
            : null;
    }

    private static string Text(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
