using System.Collections.Concurrent;
using System.Net;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace WirralCareRecord.Gateway.Storage;

/// <summary>
/// A container in Azure Blob Storage. Documents are block blobs written with ETag conditions; logs are append blobs.
/// The container is created on first use, so a new storage account needs no set-up beyond access.
/// </summary>
internal sealed class AzureBlobStore : IBlobStore
{
    private readonly BlobContainerClient _container;
    private readonly ConcurrentDictionary<string, Task> _appendBlobsCreated = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _appendPositions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _appendGates = new(StringComparer.Ordinal);
    private Task? _created;

    public AzureBlobStore(BlobContainerClient container) => _container = container;

    public async Task<StoredBlob?> ReadAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var result = await _container.GetBlobClient(name).DownloadContentAsync(cancellationToken);
            return new StoredBlob(result.Value.Content, result.Value.Details.ETag.ToString(), result.Value.Details.ContentType);
        }
        catch (RequestFailedException ex) when (ex.Status == (int)HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<string?> GetETagAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var properties = await _container.GetBlobClient(name).GetPropertiesAsync(cancellationToken: cancellationToken);
            return properties.Value.ETag.ToString();
        }
        catch (RequestFailedException ex) when (ex.Status == (int)HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<string> WriteAsync(string name, BinaryData content, string? expectedETag, string contentType, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        var conditions = expectedETag is null
            ? new BlobRequestConditions { IfNoneMatch = ETag.All }
            : new BlobRequestConditions { IfMatch = new ETag(expectedETag) };
        try
        {
            var result = await _container.GetBlobClient(name).UploadAsync(
                content,
                new BlobUploadOptions { Conditions = conditions, HttpHeaders = new BlobHttpHeaders { ContentType = contentType } },
                cancellationToken);
            return result.Value.ETag.ToString();
        }
        catch (RequestFailedException ex) when (ex.Status is (int)HttpStatusCode.PreconditionFailed or (int)HttpStatusCode.Conflict)
        {
            throw new StorageConflictException(name, ex);
        }
    }

    public async Task AppendAsync(string name, BinaryData content, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        var blob = _container.GetAppendBlobClient(name);
        var created = _appendBlobsCreated.GetOrAdd(name, _ => blob.CreateIfNotExistsAsync(cancellationToken: CancellationToken.None));
        try
        {
            await created;
        }
        catch (RequestFailedException)
        {
            _appendBlobsCreated.TryRemove(new KeyValuePair<string, Task>(name, created));
            throw;
        }

        // Appends to one blob from this process go one at a time, each at the position this writer expects, so an SDK retry of a block that did land (its answer
        // lost) is refused rather than written twice; and it is not cancellable once begun, since we must know which.
        var gate = _appendGates.GetOrAdd(name, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(CancellationToken.None);
        try
        {
            await AppendAtExpectedPositionAsync(blob, name, content);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task AppendAtExpectedPositionAsync(AppendBlobClient blob, string name, BinaryData content)
    {
        var position = _appendPositions.TryGetValue(name, out var known)
            ? known
            : (await blob.GetPropertiesAsync(cancellationToken: CancellationToken.None)).Value.ContentLength;
        var length = content.ToMemory().Length;
        try
        {
            using var stream = content.ToStream();
            await blob.AppendBlockAsync(stream, new AppendBlobAppendBlockOptions { Conditions = new AppendBlobRequestConditions { IfAppendPositionEqual = position } }, CancellationToken.None);
        }
        catch (RequestFailedException ex) when (ex.ErrorCode == BlobErrorCode.AppendPositionConditionNotMet)
        {
            // Either an earlier attempt of this very block landed (the blob is exactly one block longer), or someone
            // else wrote to the blob: the first is success, the second must not be papered over.
            var now = (await blob.GetPropertiesAsync(cancellationToken: CancellationToken.None)).Value.ContentLength;
            if (now != position + length)
            {
                _appendPositions.TryRemove(name, out _);
                throw;
            }
        }
        catch
        {
            _appendPositions.TryRemove(name, out _);
            throw;
        }

        _appendPositions[name] = position + length;
    }

    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        await foreach (var item in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, cancellationToken))
        {
            if (!item.Name.StartsWith('.'))
            {
                yield return item.Name;
            }
        }
    }

    public async Task<Stream?> OpenReadAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var result = await _container.GetBlobClient(name).DownloadStreamingAsync(cancellationToken: cancellationToken);
            return result.Value.Content;
        }
        catch (RequestFailedException ex) when (ex.Status == (int)HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        var probe = _container.GetBlobClient($".probe/{Guid.NewGuid():N}");
        await probe.UploadAsync(BinaryData.FromBytes([1]), cancellationToken);
        await probe.DeleteIfExistsAsync(cancellationToken: cancellationToken);
    }

    private Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        // A failed creation (storage down) is retried on the next call rather than remembered.
        var created = _created;
        if (created is { IsCompletedSuccessfully: true })
        {
            return created;
        }

        if (created is null || created.IsFaulted || created.IsCanceled)
        {
            _created = created = _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        }

        return created;
    }
}
