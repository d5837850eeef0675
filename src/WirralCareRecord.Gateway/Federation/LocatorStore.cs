using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Storage;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>A locator entry and the ETag to change it with.</summary>
public sealed record StoredLocatorEntry(LocatorDocument Document, string ETag);

/// <summary>
/// The locator's documents in the <c>locator</c> container: one small JSON document per patient, named by an
/// HMAC-SHA256 of the NHS number so the container's listing reveals none, and changed only with its ETag so every
/// gateway instance can learn at once without losing another's lesson.
/// </summary>
internal sealed class LocatorStore
{
    private const int MaxAttempts = 10;
    private const string Suffix = ".json";
    private readonly IBlobStore _store;
    private readonly byte[] _key;

    public LocatorStore(IBlobStores stores, IOptions<LocatorOptions> options)
    {
        _store = stores[StorageContainer.Locator];
        _key = Encoding.UTF8.GetBytes(options.Value.NameKey);
    }

    /// <summary>The blob name for an NHS number: lower-case hex of HMAC-SHA256(key, number), so it cannot be reversed without the key.</summary>
    public string NameOf(string nhsNumber) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(nhsNumber))) + Suffix;

    public async Task<StoredLocatorEntry?> ReadAsync(string nhsNumber, CancellationToken cancellationToken) =>
        await ReadNamedAsync(NameOf(nhsNumber), cancellationToken);

    public async Task<StoredLocatorEntry?> ReadNamedAsync(string name, CancellationToken cancellationToken) =>
        await _store.ReadAsync(name, cancellationToken) is { } blob
            ? new StoredLocatorEntry(LocatorDocument.Parse(blob.Content), blob.ETag)
            : null;

    /// <summary>Every entry's blob name, for the background re-sweep.</summary>
    public IAsyncEnumerable<string> ListAsync(CancellationToken cancellationToken) => _store.ListAsync("", cancellationToken);

    /// <summary>Marks the entry as being re-swept by this instance, only if nobody changed it since it was read.</summary>
    /// <exception cref="StorageConflictException">Another instance claimed or changed it first.</exception>
    public Task WriteClaimAsync(string name, StoredLocatorEntry entry, DateTimeOffset at, CancellationToken cancellationToken) =>
        _store.WriteAsync(name, (entry.Document with { SweepClaimedAt = at }).ToBinary(), entry.ETag, "application/json", cancellationToken);

    /// <summary>
    /// Applies <paramref name="change"/> to the stored entry (null when there is none) and stores the result when it
    /// returns one. Another instance writing first means re-reading and applying again, so both lessons are kept.
    /// </summary>
    /// <returns>The stored entry after the change, or what was read when <paramref name="change"/> declined to write.</returns>
    public async Task<LocatorDocument?> UpdateAsync(string name, Func<LocatorDocument?, LocatorDocument?> change, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = await ReadNamedAsync(name, cancellationToken);
            if (change(current?.Document) is not { } next)
            {
                return current?.Document;
            }

            try
            {
                await _store.WriteAsync(name, next.ToBinary(), current?.ETag, "application/json", cancellationToken);
                return next;
            }
            catch (StorageConflictException) when (attempt < MaxAttempts)
            {
                // Another instance learned something about this patient at the same moment: merge with theirs, after a
                // random pause so two instances do not keep colliding in step.
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(2, 10 * attempt)), cancellationToken);
            }
        }
    }
}
