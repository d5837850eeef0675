using System.Text;
using WirralCareRecord.Gateway.Storage;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Storage;

/// <summary>
/// What every <see cref="IBlobStore"/> must do, run against the local folder and against Azurite, so the embedded
/// default and production storage cannot drift apart.
/// </summary>
public abstract class BlobStoreContract
{
    protected abstract Task<IBlobStore> CreateStoreAsync();

    [Fact]
    public async Task A_missing_blob_reads_as_null()
    {
        var store = await CreateStoreAsync();

        Assert.Null(await store.ReadAsync("nothing/here.json", default));
        Assert.Null(await store.GetETagAsync("nothing/here.json", default));
        Assert.Null(await store.OpenReadAsync("nothing/here.json", default));
    }

    [Fact]
    public async Task A_created_document_reads_back_with_its_etag_and_content_type()
    {
        var store = await CreateStoreAsync();

        var etag = await store.WriteAsync("registry/registry.json", BinaryData.FromString("{\"a\":1}"), null, "application/json", default);
        var read = await store.ReadAsync("registry/registry.json", default);

        Assert.NotNull(read);
        Assert.Equal("{\"a\":1}", read.Content.ToString());
        Assert.Equal(etag, read.ETag);
        Assert.Equal(etag, await store.GetETagAsync("registry/registry.json", default));
        Assert.Equal("application/json", read.ContentType);
    }

    [Fact]
    public async Task A_document_written_create_only_is_never_overwritten()
    {
        var store = await CreateStoreAsync();
        await store.WriteAsync("documents/dsa-v1.pdf", BinaryData.FromString("first"), null, "application/pdf", default);

        await Assert.ThrowsAsync<StorageConflictException>(() =>
            store.WriteAsync("documents/dsa-v1.pdf", BinaryData.FromString("second"), null, "application/pdf", default));
        Assert.Equal("first", (await store.ReadAsync("documents/dsa-v1.pdf", default))!.Content.ToString());
    }

    [Fact]
    public async Task An_update_needs_the_current_etag_and_a_stale_one_is_refused()
    {
        var store = await CreateStoreAsync();
        var first = await store.WriteAsync("doc.json", BinaryData.FromString("1"), null, "application/json", default);
        var second = await store.WriteAsync("doc.json", BinaryData.FromString("2"), first, "application/json", default);

        Assert.NotEqual(first, second);
        await Assert.ThrowsAsync<StorageConflictException>(() =>
            store.WriteAsync("doc.json", BinaryData.FromString("3"), first, "application/json", default));
        Assert.Equal("2", (await store.ReadAsync("doc.json", default))!.Content.ToString());
    }

    [Fact]
    public async Task Of_two_writers_holding_the_same_etag_exactly_one_wins()
    {
        var store = await CreateStoreAsync();
        var etag = await store.WriteAsync("doc.json", BinaryData.FromString("0"), null, "application/json", default);

        var writers = Enumerable.Range(1, 8).Select(async i =>
        {
            try
            {
                await store.WriteAsync("doc.json", BinaryData.FromString(i.ToString(System.Globalization.CultureInfo.InvariantCulture)), etag, "application/json", default);
                return true;
            }
            catch (StorageConflictException)
            {
                return false;
            }
        });
        var results = await Task.WhenAll(writers);

        Assert.Single(results, won => won);
    }

    [Fact]
    public async Task Appends_accumulate_and_none_is_lost_under_concurrency()
    {
        var store = await CreateStoreAsync();

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            store.AppendAsync("audit/2026/11/23/a-10.ndjson", BinaryData.FromString($"line {i}\n"), default)));

        await using var stream = await store.OpenReadAsync("audit/2026/11/23/a-10.ndjson", default);
        Assert.NotNull(stream);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var lines = (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(40, lines.Length);
        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"line {i}").Order(), lines.Order());
    }

    [Fact]
    public async Task Listing_returns_the_names_under_a_prefix_in_order_and_hides_probes()
    {
        var store = await CreateStoreAsync();
        foreach (var name in new[] { "b/2.json", "a/1.json", "b/1.json", "c.json" })
        {
            await store.WriteAsync(name, BinaryData.FromString("x"), null, "application/json", default);
        }

        await store.ProbeAsync(default);

        Assert.Equal(["b/1.json", "b/2.json"], await store.ListAsync("b/", default).ToListAsync());
        Assert.Equal(["a/1.json", "b/1.json", "b/2.json", "c.json"], await store.ListAsync("", default).ToListAsync());
    }
}

public sealed class LocalFolderBlobStoreTests : BlobStoreContract, IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("wcr-blobs-");

    protected override Task<IBlobStore> CreateStoreAsync() => Task.FromResult<IBlobStore>(new LocalFolderBlobStore(_folder.FullName));

    [Fact]
    public async Task Names_that_would_leave_the_container_are_refused()
    {
        var store = await CreateStoreAsync();

        foreach (var name in new[] { "../escape.json", "/etc/passwd", "a//b", ".locks/x", "a\\b" })
        {
            await Assert.ThrowsAsync<ArgumentException>(() => store.ReadAsync(name, default));
        }
    }

    public void Dispose() => _folder.Delete(recursive: true);
}

public sealed class AzureBlobStoreTests : BlobStoreContract
{
    private readonly string _container = Azurite.NewPrefix() + "contract";

    protected override async Task<IBlobStore> CreateStoreAsync()
    {
        var azurite = await Azurite.InstanceAsync();
        return new AzureBlobStore(azurite.Client().GetBlobContainerClient(_container));
    }

    [Fact]
    public async Task An_append_after_someone_else_wrote_to_the_blob_is_refused_not_interleaved()
    {
        var mine = await CreateStoreAsync();
        var theirs = await CreateStoreAsync();
        await mine.AppendAsync("log.ndjson", BinaryData.FromString("mine 1\n"), default);
        await theirs.AppendAsync("log.ndjson", BinaryData.FromString("theirs 1\n"), default);

        await Assert.ThrowsAsync<Azure.RequestFailedException>(() => mine.AppendAsync("log.ndjson", BinaryData.FromString("mine 2\n"), default));

        await using var stream = await mine.OpenReadAsync("log.ndjson", default);
        Assert.Equal("mine 1\ntheirs 1\n", await new StreamReader(stream!).ReadToEndAsync());
    }
}
