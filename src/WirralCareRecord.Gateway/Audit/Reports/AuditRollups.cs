using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Storage;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// Daily roll-ups. A day is sealed <see cref="AuditOptions.RollupSealDelay"/> after it ends (UTC): by then every write
/// recorded that day has been acknowledged or has failed. A sealed day's roll-up is built once from the raw log and
/// stored; the report reads it instead of the day's log. Days not yet sealed (today) are always read from the raw log.
/// Built, stored or read back, a roll-up is the same object made by the same <see cref="DayRollup.Add"/>, so a report
/// from roll-ups and one from the raw log agree.
/// </summary>
internal sealed partial class AuditRollups(
    IBlobStores stores,
    AuditLogReader reader,
    AuditPseudonyms pseudonyms,
    IOrganisationRegistry registry,
    TimeProvider time,
    IOptions<AuditOptions> options,
    ILogger<AuditRollups> logger)
{
    private readonly IBlobStore _store = stores[StorageContainer.Audit];

    public bool IsSealed(DateOnly day) =>
        time.GetUtcNow() >= new DateTimeOffset(day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) + options.Value.RollupSealDelay;

    /// <summary>The day's roll-up: the stored one for a sealed day (built and stored first if missing), otherwise built from the log.</summary>
    /// <param name="fromRawLog">Ignore stored roll-ups and store nothing: recompute from the log, for checking.</param>
    public async Task<DayRollup> GetAsync(DateOnly day, bool fromRawLog, CancellationToken cancellationToken)
    {
        var key = await pseudonyms.KeyAsync(cancellationToken);
        if (fromRawLog || !IsSealed(day))
        {
            return await BuildAsync(day, key, cancellationToken);
        }

        var stored = await _store.ReadAsync(AuditBlobNames.Rollup(day), cancellationToken);
        if (stored is not null && DayRollup.FromJson(stored.Content, key.Id) is { } rollup)
        {
            return rollup;
        }

        var built = await BuildAsync(day, key, cancellationToken);
        try
        {
            await _store.WriteAsync(AuditBlobNames.Rollup(day), built.ToJson(), stored?.ETag, "application/json", cancellationToken);
            Log.RollupStored(logger, day, built.Events);
        }
        catch (StorageConflictException)
        {
            // Another instance stored the same day at the same moment; both are built from the same sealed log.
        }

        return built;
    }

    /// <summary>The stored roll-up of a day, if any (for the checkpoints <c>$verify</c> compares against).</summary>
    public async Task<DayRollup?> StoredAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var key = await pseudonyms.KeyAsync(cancellationToken);
        return await _store.ReadAsync(AuditBlobNames.Rollup(day), cancellationToken) is { } stored ? DayRollup.FromJson(stored.Content, key.Id) : null;
    }

    private async Task<DayRollup> BuildAsync(DateOnly day, PseudonymKey key, CancellationToken cancellationToken)
    {
        var organisations = registry.Current;
        var rollup = new DayRollup(day, key.Id);
        foreach (var blob in await reader.BlobsAsync(day, cancellationToken))
        {
            var (lines, _) = AuditChainVerifier.WithoutTornTail(blob, await reader.LinesAsync(blob, cancellationToken));
            foreach (var line in lines)
            {
                if (!line.IsEmpty && AuditFacts.From(line.Bytes) is { } facts)
                {
                    rollup.Add(facts, key, ods => organisations.Find(ods)?.Kind);
                }
            }

            var last = lines.LastOrDefault(l => !l.IsEmpty);
            rollup.Blobs.Add(new BlobCheckpoint(blob.Name, lines.Count, last.IsEmpty ? "" : Convert.ToHexStringLower(AuditChain.HashOf(last.Bytes.Span))));
        }

        return rollup;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 520, Level = LogLevel.Information, Message = "Audit roll-up for {Day} stored ({Events} events)")]
        public static partial void RollupStored(ILogger logger, DateOnly day, int events);
    }
}
