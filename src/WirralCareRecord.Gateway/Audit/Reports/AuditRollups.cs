using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Storage;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// Daily roll-ups. A day is sealed <see cref="AuditOptions.RollupSealDelay"/> after it ends (UTC): by then every write
/// recorded that day has been acknowledged or has failed. A sealed day's roll-up is built once from the raw log and
/// stored; the report reads it instead of the day's log. Days not yet sealed (today) are always read from the raw log.
/// Built, stored or read back, a roll-up is the same object made by the same <see cref="DayRollup.Add"/>, so a report
/// from roll-ups and one from the raw log agree. A month whose days are all sealed is also kept as one
/// <see cref="MonthRollup"/>, the union of its days, made when a report first asks for it.
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
    /// <summary>How many days of a month are read at once when its roll-up is made.</summary>
    private const int DayParallelism = 8;

    private readonly IBlobStore _store = stores[StorageContainer.Audit];

    /// <summary>Sealed months read or made here, by blob name, with the ETag they were stored under.</summary>
    private readonly ConcurrentDictionary<string, CachedMonth> _months = new(StringComparer.Ordinal);

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
            return built;
        }

        // Rolled up again (new rules or a new key): a month made from the old day is no longer the union of its days.
        // A first roll-up needs no such care: a month is only ever made from its days' stored roll-ups.
        if (stored is not null)
        {
            await InvalidateMonthAsync(day, cancellationToken);
        }

        return built;
    }

    /// <summary>
    /// Rolls a sealed day up again from its raw log and stores it over the old roll-up, then marks its month stale so the
    /// month is made again from its days: for a day whose log gained late writes, or was repaired, after it was sealed.
    /// The blob checkpoints <c>$verify</c> compares against are taken afresh with it.
    /// </summary>
    public async Task<DayRollup> RebuildAsync(DateOnly day, CancellationToken cancellationToken)
    {
        if (!IsSealed(day))
        {
            throw new InvalidOperationException($"{day:yyyy-MM-dd} is not sealed yet: it is read from the raw log, and has no roll-up to rebuild.");
        }

        var key = await pseudonyms.KeyAsync(cancellationToken);
        var name = AuditBlobNames.Rollup(day);
        for (var attempt = 1; ; attempt++)
        {
            var etag = await _store.GetETagAsync(name, cancellationToken);
            var built = await BuildAsync(day, key, cancellationToken);
            try
            {
                await _store.WriteAsync(name, built.ToJson(), etag, "application/json", cancellationToken);
            }
            catch (StorageConflictException) when (attempt < 3)
            {
                // Stored by someone else since the ETag was read: build again from the log, which is what they did too.
                continue;
            }

            Log.RollupRebuilt(logger, day, built.Events);
            await InvalidateMonthAsync(day, cancellationToken);
            return built;
        }
    }

    public bool IsMonthSealed(DateOnly month) => IsSealed(MonthRollup.LastDay(month));

    /// <summary>
    /// A sealed month's figures: from memory when storage still holds what was read (same ETag), else the stored month
    /// roll-up, else the union of its days' roll-ups, stored for next time.
    /// </summary>
    /// <param name="month">The month's first day.</param>
    public async Task<RollupFigures> GetMonthAsync(DateOnly month, CancellationToken cancellationToken)
    {
        if (!IsMonthSealed(month))
        {
            throw new InvalidOperationException($"{month:yyyy-MM} is not sealed yet; read its days.");
        }

        var key = await pseudonyms.KeyAsync(cancellationToken);
        var name = AuditBlobNames.MonthRollup(month);
        // Read first: a change after this read is noticed by the next report, and one before it by this one.
        var generation = await _store.GetETagAsync(AuditBlobNames.RollupsChanged, cancellationToken);
        if (_months.TryGetValue(name, out var cached) && cached.KeyId == key.Id)
        {
            if (cached.Generation == generation)
            {
                return cached.Figures;
            }

            if (await _store.GetETagAsync(name, cancellationToken) == cached.ETag)
            {
                Remember(name, cached with { Generation = generation });
                return cached.Figures;
            }
        }

        // Read before the days: if a day is rebuilt while they are read, its stale marker changes this ETag and the
        // conditional write below fails, rather than storing a month made from the old day.
        var stored = await _store.ReadAsync(name, cancellationToken);
        if (stored is not null && MonthRollup.FromJson(stored.Content, key.Id) is { } read)
        {
            Remember(name, new CachedMonth(generation, stored.ETag, key.Id, read.Figures));
            return read.Figures;
        }

        var days = new DayRollup[MonthRollup.LastDay(month).Day];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, days.Length),
            new ParallelOptions { MaxDegreeOfParallelism = DayParallelism, CancellationToken = cancellationToken },
            async (i, ct) => days[i] = await GetAsync(month.AddDays(i), fromRawLog: false, ct));
        var made = new MonthRollup(month, key.Id, RollupFigures.Union([.. days.Select(d => d.Figures)]));
        try
        {
            var etag = await _store.WriteAsync(name, made.ToJson(), stored?.ETag, "application/json", cancellationToken);
            Remember(name, new CachedMonth(generation, etag, key.Id, made.Figures));
            Log.MonthRollupStored(logger, month, made.Figures.Events);
        }
        catch (StorageConflictException)
        {
            // Another instance stored it, or a day was rebuilt meanwhile: the next read takes what storage holds.
        }

        return made.Figures;
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

    /// <summary>Marks the day's month roll-up stale (creating the marker if the month has none, so none made meanwhile is kept).</summary>
    private async Task InvalidateMonthAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var month = MonthRollup.MonthOf(day);
        var name = AuditBlobNames.MonthRollup(month);
        for (var attempt = 1; ; attempt++)
        {
            var etag = await _store.GetETagAsync(name, cancellationToken);
            try
            {
                await _store.WriteAsync(name, MonthRollup.Stale(month, day), etag, "application/json", cancellationToken);
                _months.TryRemove(name, out _);
                Log.MonthRollupInvalidated(logger, month, day);
                await MarkChangedAsync(day, cancellationToken);
                return;
            }
            catch (StorageConflictException) when (attempt < 10)
            {
                // Written by someone else since the ETag was read, so after this day was stored. Another stale marker
                // does as well as this one; a month made at the same moment may hold the old day, so it is marked too.
                if (await _store.ReadAsync(name, cancellationToken) is { } now && MonthRollup.IsStale(now.Content))
                {
                    _months.TryRemove(name, out _);
                    await MarkChangedAsync(day, cancellationToken);
                    return;
                }
            }
        }
    }

    /// <summary>Tells every instance that months it holds in memory must be checked against storage again.</summary>
    private async Task MarkChangedAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var etag = await _store.GetETagAsync(AuditBlobNames.RollupsChanged, cancellationToken);
        try
        {
            // A new id each time: the local store's ETags are content hashes, and the ETag must change.
            var change = BinaryData.FromObjectAsJson(new RollupsChange(day, Guid.NewGuid()), DayRollup.Json);
            await _store.WriteAsync(AuditBlobNames.RollupsChanged, change, etag, "application/json", cancellationToken);
        }
        catch (StorageConflictException)
        {
            // Rewritten by someone else since it was read, so after this change: that tells everyone just as well.
        }
    }

    private void Remember(string name, CachedMonth month)
    {
        var limit = options.Value.RollupCacheMonths;
        if (limit == 0)
        {
            return;
        }

        _months[name] = month;
        // Names sort by month: the oldest go first, as a report most often asks for recent months.
        foreach (var oldest in _months.Keys.Order(StringComparer.Ordinal).Take(Math.Max(0, _months.Count - limit)))
        {
            _months.TryRemove(oldest, out _);
        }
    }

    private sealed record RollupsChange(DateOnly Day, Guid Id);

    /// <param name="Generation">The ETag of <see cref="AuditBlobNames.RollupsChanged"/> read before the month was.</param>
    private sealed record CachedMonth(string? Generation, string ETag, string KeyId, RollupFigures Figures);

    private static partial class Log
    {
        [LoggerMessage(EventId = 520, Level = LogLevel.Information, Message = "Audit roll-up for {Day} stored ({Events} events)")]
        public static partial void RollupStored(ILogger logger, DateOnly day, int events);

        [LoggerMessage(EventId = 522, Level = LogLevel.Information, Message = "Audit roll-up for {Day} rebuilt from the log ({Events} events)")]
        public static partial void RollupRebuilt(ILogger logger, DateOnly day, int events);

        [LoggerMessage(EventId = 523, Level = LogLevel.Information, Message = "Audit month roll-up for {Month} stored ({Events} events)")]
        public static partial void MonthRollupStored(ILogger logger, DateOnly month, int events);

        [LoggerMessage(EventId = 524, Level = LogLevel.Information, Message = "Audit month roll-up for {Month} marked stale: the roll-up for {Day} was written again")]
        public static partial void MonthRollupInvalidated(ILogger logger, DateOnly month, DateOnly day);
    }
}
