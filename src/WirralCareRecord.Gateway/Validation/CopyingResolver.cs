using System.Collections.Concurrent;
using System.Text.Json;
using Hl7.Fhir.Model;
using Hl7.Fhir.Specification.Source;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Utility;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>
/// Resolves each conformance resource once, keeps it as FHIR JSON, and hands every caller its own copy read from it.
/// </summary>
/// <remarks>
/// Firely's snapshot generator and schema compiler change the StructureDefinitions they are given (snapshots,
/// element ids, corrections). Behind a plain <see cref="CachedResolver"/> those changes leak into the next caller, so
/// a result depended on which resources had been validated before it (the December 2026 trial: 9 false <c>ref-1</c>
/// errors over the UK Core examples, depending on order). Copies make every resolution independent of every other.
/// An optional <c>patch</c> is applied once, to the kept original. With <c>serialize</c>, one resolution at a time
/// reaches <c>source</c>: the SDK's <see cref="SnapshotSource"/> is not safe for concurrent use (two validators
/// compiling at once made it answer "unknown StructureDefinition", which was then kept).
/// <para>
/// Kept as JSON bytes, not as the resolved objects: the SDK's XML reader (base R4 comes as XML) annotates every element
/// it builds with the XML node it came from, so a kept object held the whole parsed XML document alive, and each
/// annotation its own dictionary. Kept as objects, the definitions took about 237 MB of a gateway's heap; as JSON, a
/// fraction of that (the benchmarks' <c>validation_definitions_heap_mb</c>). A copy costs a parse instead of a
/// <c>DeepCopy()</c>: StructureDefinitions are asked for while profiles compile, and each validator keeps its copies of
/// everything else (<see cref="KeepingTerminology"/>).
/// </para>
/// </remarks>
internal sealed class CopyingResolver(IAsyncResourceResolver source, Action<Resource>? patch = null, bool serialize = false) : IAsyncResourceResolver
{
    private readonly ConcurrentDictionary<string, Lazy<Task<byte[]?>>> _byCanonical = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<byte[]?>>> _byUri = new(StringComparer.Ordinal);
    private readonly Lock _one = new();

    /// <summary>A copy of the resource with this canonical URL, or null.</summary>
    public Task<Resource?> CopyOfAsync(string canonicalUrl) => ResolveByCanonicalUriAsync(canonicalUrl);

    public async Task<Resource?> ResolveByCanonicalUriAsync(string uri) =>
        Copy(await _byCanonical.GetOrAdd(uri, u => new Lazy<Task<byte[]?>>(() => LoadAsync(() => source.TryResolveByCanonicalUriAsync(u)))).Value.ConfigureAwait(false));

    public async Task<Resource?> ResolveByUriAsync(string uri) =>
        Copy(await _byUri.GetOrAdd(uri, u => new Lazy<Task<byte[]?>>(() => LoadAsync(() => source.TryResolveByUriAsync(u)))).Value.ConfigureAwait(false));

    /// <summary>
    /// A resolver over this one for one validator, which keeps the copies of everything but StructureDefinitions. A
    /// validation resolves the value sets and code systems of its terminology checks every time (about 80 of the 111
    /// resolutions made validating the richest UK Core Patient example), and a copy per resolution cost a parse each.
    /// Definitions are compiled into the validator's schemas once: keeping their copies too would hold about 30 MB more
    /// per validator for little gain. Not shared between validators, so what one validator's terminology service adds to
    /// its copies (a value set's expansion) stays its own.
    /// </summary>
    public IAsyncResourceResolver KeepingTerminology() => new KeepingTerminologyResolver(this);

    private sealed class KeepingTerminologyResolver(CopyingResolver copies) : IAsyncResourceResolver
    {
        private readonly ConcurrentDictionary<string, Resource?> _byCanonical = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, Resource?> _byUri = new(StringComparer.Ordinal);

        public async Task<Resource?> ResolveByCanonicalUriAsync(string uri) =>
            _byCanonical.TryGetValue(uri, out var kept) ? kept : Keep(_byCanonical, uri, await copies.ResolveByCanonicalUriAsync(uri).ConfigureAwait(false));

        public async Task<Resource?> ResolveByUriAsync(string uri) =>
            _byUri.TryGetValue(uri, out var kept) ? kept : Keep(_byUri, uri, await copies.ResolveByUriAsync(uri).ConfigureAwait(false));

        private static Resource? Keep(ConcurrentDictionary<string, Resource?> kept, string uri, Resource? resource)
        {
            if (resource is not StructureDefinition)
            {
                kept.TryAdd(uri, resource);
            }

            return resource;
        }
    }

    private async Task<byte[]?> LoadAsync(Func<Task<ResolverResult>> resolve)
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

        if (resource is null)
        {
            return null;
        }

        patch?.Invoke(resource);
        var json = FhirJson.SerializeToUtf8(resource);
        // Read back once here, so a definition that does not survive the round trip is "not found" now, not a fault later.
        return Copy(json) is not null ? json : null;
    }

    private static Resource? Copy(byte[]? json)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<Resource>(json, FhirJson.Lenient);
        }
        catch (Exception ex) when (ex is JsonException or DeserializationFailedException)
        {
            return null;
        }
    }
}
