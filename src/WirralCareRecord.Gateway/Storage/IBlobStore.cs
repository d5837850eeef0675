namespace WirralCareRecord.Gateway.Storage;

/// <summary>A stored blob's bytes and the ETag to pass back when changing it.</summary>
public sealed record StoredBlob(BinaryData Content, string ETag, string? ContentType);

/// <summary>
/// One container of blobs: the storage contract the registry, agreement documents, the audit log and the record locator
/// share. Azure Blob Storage in production, a local folder as the embedded default; both pass the same contract tests.
/// </summary>
public interface IBlobStore
{
    /// <summary>The blob, or null when there is none by that name.</summary>
    Task<StoredBlob?> ReadAsync(string name, CancellationToken cancellationToken);

    /// <summary>The blob's current ETag, or null when there is none; cheap enough to poll.</summary>
    Task<string?> GetETagAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the blob only if its ETag is still <paramref name="expectedETag"/>, or, when that is null, only if it does
    /// not exist yet (so a document once written is never overwritten). Returns the new ETag.
    /// </summary>
    /// <exception cref="StorageConflictException">Someone else changed or created the blob first.</exception>
    Task<string> WriteAsync(string name, BinaryData content, string? expectedETag, string contentType, CancellationToken cancellationToken);

    /// <summary>Appends to an append-only blob, creating it when needed; returns once the bytes are durable.</summary>
    Task AppendAsync(string name, BinaryData content, CancellationToken cancellationToken);

    /// <summary>Names of the blobs starting with <paramref name="prefix"/>, in ordinal order.</summary>
    IAsyncEnumerable<string> ListAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>Reads the blob as a stream (for large append blobs), or null when there is none.</summary>
    Task<Stream?> OpenReadAsync(string name, CancellationToken cancellationToken);

    /// <summary>Throws unless the container can be written now; writes no lasting data.</summary>
    Task ProbeAsync(CancellationToken cancellationToken);
}

/// <summary>A conditional write lost to another writer; the caller should re-read and decide again.</summary>
public sealed class StorageConflictException(string name, Exception? inner = null)
    : Exception($"The blob '{name}' was changed by someone else.", inner)
{
    public string BlobName { get; } = name;
}

/// <summary>The containers the gateway keeps; each is one <see cref="IBlobStore"/>.</summary>
public enum StorageContainer
{
    Registry,
    Agreements,
    Audit,
    Locator,
}

/// <summary>Hands out the store for each container.</summary>
public interface IBlobStores
{
    IBlobStore this[StorageContainer container] { get; }
}
