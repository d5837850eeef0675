using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace WirralCareRecord.Gateway.Storage;

/// <summary>
/// A container as a folder: blob names are relative paths. ETags are content hashes, and each change happens under
/// an exclusive lock file, so two processes sharing the folder still get compare-and-swap semantics.
/// </summary>
internal sealed class LocalFolderBlobStore(string root) : IBlobStore
{
    private const string HiddenPrefix = ".";
    private static readonly TimeSpan LockRetry = TimeSpan.FromMilliseconds(5);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);

    public string Root { get; } = Path.GetFullPath(root);

    public async Task<StoredBlob?> ReadAsync(string name, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        try
        {
            var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
            return new StoredBlob(BinaryData.FromBytes(bytes), ETagOf(bytes), ContentTypeOf(path));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public async Task<string?> GetETagAsync(string name, CancellationToken cancellationToken) =>
        (await ReadAsync(name, cancellationToken))?.ETag;

    public async Task<string> WriteAsync(string name, BinaryData content, string? expectedETag, string contentType, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        using var held = await LockAsync(name, cancellationToken);
        var current = await ReadAsync(name, cancellationToken);
        if (current?.ETag != expectedETag)
        {
            throw new StorageConflictException(name);
        }

        // Write beside and rename: a reader sees the old document or the new one, never half of one.
        var temporary = Path.Combine(HiddenFolder("tmp"), Guid.NewGuid().ToString("N"));
        var bytes = content.ToArray();
        await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
        {
            await stream.WriteAsync(bytes, CancellationToken.None);
            stream.Flush(flushToDisk: true);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Move(temporary, path, overwrite: true);
        await File.WriteAllTextAsync(ContentTypePath(path), contentType, CancellationToken.None);
        return ETagOf(bytes);
    }

    public async Task AppendAsync(string name, BinaryData content, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        // Once started the append must finish: half a line would corrupt an NDJSON log.
        using var held = await LockAsync(name, CancellationToken.None);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 4096, FileOptions.None);
        await stream.WriteAsync(content.ToMemory(), CancellationToken.None);
        stream.Flush(flushToDisk: true);
    }

    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();

        // Start at the deepest folder the prefix names (an audit day, a flow test's organisation), not the whole
        // container: listing one day of a years-long log must not walk every other day.
        var folderPart = prefix.LastIndexOf('/') is var slash and >= 0 ? prefix[..slash] : "";
        var start = folderPart.Length == 0 ? Root : Path.Combine(Root, folderPart.Replace('/', Path.DirectorySeparatorChar));
        if (!Directory.Exists(start))
        {
            yield break;
        }

        var names = Directory.EnumerateFiles(start, "*", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(Root, path).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(name => !name.StartsWith(HiddenPrefix, StringComparison.Ordinal) && !name.Contains("/.", StringComparison.Ordinal))
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        foreach (var name in names)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return name;
        }
    }

    public Task<Stream?> OpenReadAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            // ReadWrite: an instance may be appending to this blob while it is read.
            Stream stream = new FileStream(PathOf(name), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 65536, FileOptions.Asynchronous);
            return Task.FromResult<Stream?>(stream);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        var probe = Path.Combine(HiddenFolder("probe"), Guid.NewGuid().ToString("N"));
        await File.WriteAllBytesAsync(probe, [1], cancellationToken);
        File.Delete(probe);
    }

    private string PathOf(string name)
    {
        if (string.IsNullOrEmpty(name) || name.StartsWith('/') || name.Contains('\\', StringComparison.Ordinal)
            || name.Split('/').Any(part => part.Length == 0 || part.StartsWith(HiddenPrefix, StringComparison.Ordinal)))
        {
            throw new ArgumentException($"'{name}' is not a valid blob name.", nameof(name));
        }

        return Path.Combine(Root, name.Replace('/', Path.DirectorySeparatorChar));
    }

    private string HiddenFolder(string purpose)
    {
        var folder = HiddenPath(purpose);
        Directory.CreateDirectory(folder);
        return folder;
    }

    private string HiddenPath(string purpose) => Path.Combine(Root, HiddenPrefix + purpose);

    private string ContentTypePath(string path) => Path.Combine(HiddenFolder("content-types"), ContentTypeName(path));

    // Read on every read of a blob (the locator's on every federated read): no folder made, one hash.
    private string? ContentTypeOf(string path) => Path.Combine(HiddenPath("content-types"), ContentTypeName(path)) is var typePath && File.Exists(typePath) ? File.ReadAllText(typePath) : null;

    private static string ContentTypeName(string path) => Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(path)))[..32];

    private static string ETagOf(ReadOnlySpan<byte> bytes) => "\"" + Convert.ToHexString(SHA256.HashData(bytes))[..32] + "\"";

    /// <summary>In-process gate first (cheap), then an exclusive lock file for other processes sharing the folder.</summary>
    private async Task<IDisposable> LockAsync(string name, CancellationToken cancellationToken)
    {
        var gate = _gates.GetOrAdd(name, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        var lockPath = Path.Combine(HiddenFolder("locks"), Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name)))[..32]);
        while (true)
        {
            try
            {
                var file = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                return new Held(gate, file);
            }
            catch (IOException)
            {
                await Task.Delay(LockRetry, CancellationToken.None);
            }
        }
    }

    private sealed class Held(SemaphoreSlim gate, FileStream file) : IDisposable
    {
        public void Dispose()
        {
            file.Dispose();
            gate.Release();
        }
    }
}
