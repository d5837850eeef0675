using System.Collections.Concurrent;
using Hl7.Fhir.Model;
using Hl7.Fhir.Specification.Source;
using Hl7.Fhir.Utility;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>
/// Resolves each conformance resource once, keeps it, and hands every caller its own <c>DeepCopy()</c>.
/// </summary>
/// <remarks>
/// Firely's snapshot generator and schema compiler change the StructureDefinitions they are given (snapshots,
/// element ids, corrections). Behind a plain <see cref="CachedResolver"/> those changes leak into the next caller, so
/// a result depended on which resources had been validated before it (the December 2026 trial: 9 false <c>ref-1</c>
/// errors over the UK Core examples, depending on order). Copies make every resolution independent of every other.
/// An optional <c>patch</c> is applied once, to the kept original. With <c>serialize</c>, one resolution at a time
/// reaches <c>source</c>: the SDK's <see cref="SnapshotSource"/> is not safe for concurrent use (two validators
/// compiling at once made it answer "unknown StructureDefinition", which was then kept).
/// </remarks>
internal sealed class CopyingResolver(IAsyncResourceResolver source, Action<Resource>? patch = null, bool serialize = false) : IAsyncResourceResolver
{
    private readonly ConcurrentDictionary<string, Lazy<Task<Resource?>>> _byCanonical = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<Resource?>>> _byUri = new(StringComparer.Ordinal);
    private readonly Lock _one = new();

    /// <summary>A copy of the resource with this canonical URL, or null.</summary>
    public Task<Resource?> CopyOfAsync(string canonicalUrl) => ResolveByCanonicalUriAsync(canonicalUrl);

    public async Task<Resource?> ResolveByCanonicalUriAsync(string uri) =>
        Copy(await _byCanonical.GetOrAdd(uri, u => new Lazy<Task<Resource?>>(() => LoadAsync(() => source.TryResolveByCanonicalUriAsync(u)))).Value.ConfigureAwait(false));

    public async Task<Resource?> ResolveByUriAsync(string uri) =>
        Copy(await _byUri.GetOrAdd(uri, u => new Lazy<Task<Resource?>>(() => LoadAsync(() => source.TryResolveByUriAsync(u)))).Value.ConfigureAwait(false));

    private async Task<Resource?> LoadAsync(Func<Task<ResolverResult>> resolve)
    {
        Resource? resource;
        try
        {
            if (serialize)
            {
                // The SDK's sources finish synchronously; waiting here keeps the lock on one thread.
                lock (_one)
                {
                    resource = TaskHelper.Await(resolve).Value;
                }
            }
            else
            {
                resource = (await resolve().ConfigureAwait(false)).Value;
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // An unreadable definition is "not found" to the validator, as it is to the SDK's own sources.
            return null;
        }

        if (resource is not null)
        {
            patch?.Invoke(resource);
        }

        return resource;
    }

    private static Resource? Copy(Resource? resource) => (Resource?)resource?.DeepCopy();
}
