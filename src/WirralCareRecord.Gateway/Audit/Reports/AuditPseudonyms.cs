using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Storage;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// Turns user ids and NHS numbers into 64-bit pseudonyms (HMAC-SHA-256, truncated) for the roll-ups' distinct counts, so
/// no NHS number is written anywhere but the raw log. A plain hash would not do: NHS numbers are few enough (10^9) to
/// reverse one by trying them all, which the key prevents.
/// </summary>
/// <remarks>
/// The key comes from <c>Audit:PseudonymKey</c> (keep it in Key Vault), or is generated once and kept beside the log. Kept
/// beside the log it guards the roll-ups only as well as the log itself is guarded, which is the point: whoever can read
/// the roll-ups there can read the raw log anyway. Roll-ups record which key made them and are rebuilt if it changes.
/// 64 bits keep the chance of two of a million people sharing a pseudonym near one in 40 million.
/// </remarks>
internal sealed class AuditPseudonyms(IBlobStores stores, IOptions<AuditOptions> options) : IDisposable
{
    private readonly IBlobStore _store = stores[StorageContainer.Audit];
    private readonly SemaphoreSlim _gate = new(1, 1);
    private PseudonymKey? _key;

    public async Task<PseudonymKey> KeyAsync(CancellationToken cancellationToken)
    {
        if (_key is { } known)
        {
            return known;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            return _key ??= await LoadAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<PseudonymKey> LoadAsync(CancellationToken cancellationToken)
    {
        if (options.Value.PseudonymKey is { Length: > 0 } configured && AuditOptions.TryDecode(configured, out var bytes))
        {
            return new PseudonymKey(bytes);
        }

        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await _store.ReadAsync(AuditBlobNames.PseudonymKey, cancellationToken) is { } stored)
            {
                var document = JsonSerializer.Deserialize<KeyDocument>(stored.Content.ToMemory().Span)
                    ?? throw new InvalidDataException($"{AuditBlobNames.PseudonymKey} is empty.");
                return new PseudonymKey(Convert.FromBase64String(document.Key));
            }

            try
            {
                // Create-only: every instance racing to make the key ends up using the one that was written first.
                var created = new KeyDocument(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
                await _store.WriteAsync(AuditBlobNames.PseudonymKey, BinaryData.FromObjectAsJson(created), null, "application/json", cancellationToken);
            }
            catch (StorageConflictException)
            {
                // Someone else created it; read theirs.
            }
        }

        throw new InvalidOperationException("The roll-up pseudonym key could not be read or created.");
    }

    public void Dispose() => _gate.Dispose();

    private sealed record KeyDocument(string Key);
}

/// <summary>One HMAC key and the pseudonyms it makes.</summary>
internal sealed class PseudonymKey(byte[] key)
{
    /// <summary>A short fingerprint of the key, stored in each roll-up so one made with another key is never merged.</summary>
    public string Id { get; } = Convert.ToHexString(SHA256.HashData(key))[..16];

    public ulong Staff(string userId) => Make("staff|", userId);

    public ulong Patient(string nhsNumber) => Make("patient|", nhsNumber);

    private ulong Make(string domain, string value)
    {
        Span<byte> hash = stackalloc byte[32];
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(domain + value), hash);
        return BinaryPrimitives.ReadUInt64LittleEndian(hash);
    }
}
