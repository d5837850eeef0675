using System.Runtime.CompilerServices;
using System.Text.Json;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Storage;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>One stored line of the log and where it is (line numbers count from 1, as an editor shows them).</summary>
/// <param name="Terminated">
/// Whether the line ends with its newline. The writer appends whole lines, newline included, so only a blob's last
/// line can lack one: an append the instance stopped in the middle of (killed, or the machine lost power).
/// </param>
internal readonly record struct AuditLine(AuditLogBlob Blob, int Number, ReadOnlyMemory<byte> Bytes, bool Terminated = true)
{
    public bool IsEmpty => Bytes.IsEmpty;

    /// <summary>The line as an AuditEvent, or null when it is not one (a damaged or hand-edited line: <c>$verify</c> says which).</summary>
    public AuditEvent? TryParse()
    {
        try
        {
            return JsonSerializer.Deserialize<AuditEvent>(Bytes.Span, FhirJson.OwnOutput);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }
}

/// <summary>Reads the log back: the blobs of a day in order, their lines as stored, and the events they hold.</summary>
internal sealed partial class AuditLogReader(IBlobStores stores, ILogger<AuditLogReader> logger)
{
    private readonly IBlobStore _store = stores[StorageContainer.Audit];

    /// <summary>The day's log blobs by hour, instance and part.</summary>
    public async Task<IReadOnlyList<AuditLogBlob>> BlobsAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var blobs = new List<AuditLogBlob>();
        await foreach (var name in _store.ListAsync(AuditBlobNames.DayFolder(day), cancellationToken))
        {
            if (AuditBlobNames.TryParseLog(name, out var blob) && blob.Day == day)
            {
                blobs.Add(blob);
            }
        }

        blobs.Sort();
        return blobs;
    }

    /// <summary>
    /// Every line of the blob, empty ones included (they are damage, and the verifier reports them), but not the
    /// nothing after the final newline.
    /// </summary>
    public async Task<IReadOnlyList<AuditLine>> LinesAsync(AuditLogBlob blob, CancellationToken cancellationToken)
    {
        var bytes = await ReadAllAsync(blob.Name, cancellationToken);
        var lines = new List<AuditLine>();
        var start = 0;
        while (start < bytes.Length)
        {
            var end = bytes.Span[start..].IndexOf((byte)'\n');
            var length = end < 0 ? bytes.Length - start : end;
            lines.Add(new AuditLine(blob, lines.Count + 1, bytes.Slice(start, length), end >= 0));
            start += length + 1;
        }

        return lines;
    }

    /// <summary>The blob exactly as stored, for the NDJSON export (which keeps the chain verifiable).</summary>
    public async Task<ReadOnlyMemory<byte>> ReadAllAsync(string name, CancellationToken cancellationToken)
    {
        await using var stream = await _store.OpenReadAsync(name, cancellationToken);
        if (stream is null)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken);
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    /// <summary>
    /// The day's events an hour at a time, each hour in recorded order (instances write side by side). Lines that are not
    /// AuditEvents are skipped here and logged by position; <c>$verify</c> reports them.
    /// </summary>
    public async IAsyncEnumerable<(AuditLine Line, AuditEvent Event)> DayAsync(DateOnly day, Func<AuditLine, bool>? worthParsing, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var hour in (await BlobsAsync(day, cancellationToken)).GroupBy(b => b.Hour))
        {
            var events = new List<(AuditLine Line, AuditEvent Event)>();
            foreach (var blob in hour)
            {
                foreach (var line in await LinesAsync(blob, cancellationToken))
                {
                    if (line.IsEmpty || (worthParsing is not null && !worthParsing(line)))
                    {
                        continue;
                    }

                    if (line.TryParse() is { } parsed)
                    {
                        events.Add((line, parsed));
                    }
                    else
                    {
                        Log.UnreadableLine(logger, line.Blob.Name, line.Number);
                    }
                }
            }

            foreach (var item in events.OrderBy(e => e.Event.Recorded))
            {
                yield return item;
            }
        }
    }

    /// <summary>
    /// The day's events as facts (<see cref="AuditFacts"/>), an hour at a time in recorded order, without building the
    /// FHIR model: for searches and reports, which parse into AuditEvents only the lines they return.
    /// </summary>
    public async IAsyncEnumerable<(AuditLine Line, AuditFacts Facts)> DayFactsAsync(DateOnly day, Func<AuditLine, bool>? worthReading, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var hour in (await BlobsAsync(day, cancellationToken)).GroupBy(b => b.Hour))
        {
            var events = new List<(AuditLine Line, AuditFacts Facts)>();
            foreach (var blob in hour)
            {
                foreach (var line in await LinesAsync(blob, cancellationToken))
                {
                    if (line.IsEmpty || (worthReading is not null && !worthReading(line)))
                    {
                        continue;
                    }

                    if (AuditFacts.From(line.Bytes) is { } facts)
                    {
                        events.Add((line, facts));
                    }
                    else
                    {
                        Log.UnreadableLine(logger, line.Blob.Name, line.Number);
                    }
                }
            }

            foreach (var item in events.OrderBy(e => e.Facts.Recorded))
            {
                yield return item;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 510, Level = LogLevel.Warning, Message = "Audit log line {Line} of {Blob} is not an AuditEvent; run $verify for that day")]
        public static partial void UnreadableLine(ILogger logger, string blob, int line);
    }
}
