using WirralCareRecord.Gateway.Storage;

namespace WirralCareRecord.Gateway.Tests.Common;

/// <summary>
/// A real store with a test's hand on some of its calls (counting, holding, failing): everything not overridden goes
/// straight to <paramref name="inner"/>.
/// </summary>
internal abstract class DelegatingBlobStore(IBlobStore inner) : IBlobStore
{
    public virtual Task<StoredBlob?> ReadAsync(string name, CancellationToken cancellationToken) => inner.ReadAsync(name, cancellationToken);

    public virtual Task<string?> GetETagAsync(string name, CancellationToken cancellationToken) => inner.GetETagAsync(name, cancellationToken);

    public virtual Task<string> WriteAsync(string name, BinaryData content, string? expectedETag, string contentType, CancellationToken cancellationToken) =>
        inner.WriteAsync(name, content, expectedETag, contentType, cancellationToken);

    public virtual Task AppendAsync(string name, BinaryData content, CancellationToken cancellationToken) => inner.AppendAsync(name, content, cancellationToken);

    public virtual IAsyncEnumerable<string> ListAsync(string prefix, CancellationToken cancellationToken) => inner.ListAsync(prefix, cancellationToken);

    public virtual Task<Stream?> OpenReadAsync(string name, CancellationToken cancellationToken) => inner.OpenReadAsync(name, cancellationToken);

    public virtual Task ProbeAsync(CancellationToken cancellationToken) => inner.ProbeAsync(cancellationToken);
}
