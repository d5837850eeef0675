using System.Security.Cryptography;
using System.Text;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Storage;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Audit;

/// <summary>
/// What the audit log must do on any blob store, run against the local folder and against Azurite: group commit,
/// durability before return, one writer per blob, the hash chain, and its verification.
/// </summary>
public abstract class AuditStoreContract
{
    private static readonly DateTimeOffset At = new(2026, 3, 10, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Day = new(2026, 3, 10);

    protected abstract Task<IBlobStore> CreateStoreAsync();

    [Fact]
    public async Task Appended_events_read_back_in_order_each_linked_to_the_line_before()
    {
        var store = await CreateStoreAsync();
        await using var rig = new AuditRig(store);

        for (var i = 0; i < 5; i++)
        {
            await rig.Log.AppendAsync(AuditRig.Event(i, At.AddMinutes(i)), default);
        }

        var read = await rig.Log.ReadAsync(Day, Day, default).ToListAsync();
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"corr-{i}"), read.Select(CorrelationId));
        var blob = Assert.Single(await LogBlobsAsync(store));
        Assert.Equal("2026/03/10/gw-1-09.ndjson", blob);
        var lines = await LinesAsync(store, blob);
        Assert.Equal(AuditChain.Genesis(blob), LinkOf(lines[0]));
        for (var i = 1; i < lines.Count; i++)
        {
            Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(lines[i - 1])), LinkOf(lines[i]));
        }

        var verification = await rig.Verifier.VerifyAsync(Day, default);
        Assert.Empty(verification.Breaks);
        Assert.Equal((1, 5), (verification.Blobs, verification.Events));
    }

    [Fact]
    public async Task Concurrent_appends_share_one_write_and_none_returns_before_it_is_stored()
    {
        var observed = new ObservedBlobStore(await CreateStoreAsync()) { Hold = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        await using var rig = new AuditRig(observed);

        var first = rig.Log.AppendAsync(AuditRig.Event(0, At), default);
        await observed.Holding.Task;
        var rest = Enumerable.Range(1, 99).Select(i => rig.Log.AppendAsync(AuditRig.Event(i, At.AddSeconds(i)), default)).ToList();

        Assert.False(first.IsCompleted);
        Assert.All(rest, task => Assert.False(task.IsCompleted));
        observed.Hold!.SetResult();
        await first;
        await Task.WhenAll(rest);
        // The first event went alone; the 99 that queued behind it went in one append.
        Assert.Equal(2, observed.Appends);
        Assert.Equal(100, (await rig.Verifier.VerifyAsync(Day, default)).Events);
        Assert.Empty((await rig.Verifier.VerifyAsync(Day, default)).Breaks);
    }

    [Fact]
    public async Task A_failed_append_fails_every_caller_in_its_batch_and_the_next_write_starts_a_new_part()
    {
        var observed = new ObservedBlobStore(await CreateStoreAsync());
        await using var rig = new AuditRig(observed);
        await rig.Log.AppendAsync(AuditRig.Event(0, At), default);

        observed.Hold = new(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = rig.Log.AppendAsync(AuditRig.Event(1, At.AddSeconds(1)), default);
        await observed.Holding.Task;
        var queued = Enumerable.Range(2, 9).Select(i => rig.Log.AppendAsync(AuditRig.Event(i, At.AddSeconds(i)), default)).ToList();
        observed.Failure = new IOException("storage down");
        observed.Hold.SetResult();

        foreach (var task in queued.Prepend(held))
        {
            Assert.Equal("storage down", (await Assert.ThrowsAsync<IOException>(() => task)).Message);
        }

        observed.Failure = null;
        await rig.Log.AppendAsync(AuditRig.Event(11, At.AddSeconds(11)), default);
        Assert.Equal(["2026/03/10/gw-1-09-001.ndjson", "2026/03/10/gw-1-09.ndjson"], await LogBlobsAsync(observed));
        Assert.Equal(["corr-0", "corr-11"], (await rig.Log.ReadAsync(Day, Day, default).ToListAsync()).Select(CorrelationId));
        Assert.Empty((await rig.Verifier.VerifyAsync(Day, default)).Breaks);
    }

    [Fact]
    public async Task A_write_storage_does_not_answer_in_time_is_refused_and_the_next_goes_to_a_new_part()
    {
        var observed = new ObservedBlobStore(await CreateStoreAsync());
        // Long enough for any healthy storage call on a busy test machine; only the held one runs out.
        await using var rig = new AuditRig(observed, writeTimeout: TimeSpan.FromSeconds(2));
        await rig.Log.AppendAsync(AuditRig.Event(0, At), default);
        observed.Hold = new(TaskCreationOptions.RunContinuationsAsynchronously);

        await Assert.ThrowsAsync<TimeoutException>(() => rig.Log.AppendAsync(AuditRig.Event(1, At.AddSeconds(1)), default));
        var hung = observed.Hold;
        observed.Hold = null;
        await rig.Log.AppendAsync(AuditRig.Event(2, At.AddSeconds(2)), default);
        hung.SetResult();

        // The late write lands in the blob the writer gave up on: refused, but not unaudited, and no chain is broken.
        var abandoned = "2026/03/10/gw-1-09.ndjson";
        for (var poll = 0; poll < 200 && (await LinesAsync(observed, abandoned)).Count < 2; poll++)
        {
            await Task.Delay(25);
        }

        Assert.Equal(["2026/03/10/gw-1-09-001.ndjson", abandoned], await LogBlobsAsync(observed));
        Assert.Contains("\"corr-1\"", (await LinesAsync(observed, abandoned))[1], StringComparison.Ordinal);
        Assert.Contains("\"corr-2\"", Assert.Single(await LinesAsync(observed, "2026/03/10/gw-1-09-001.ndjson")), StringComparison.Ordinal);
        Assert.Empty((await rig.Verifier.VerifyAsync(Day, default)).Breaks);
    }

    [Fact]
    public async Task A_restarted_instance_writes_a_new_part_so_it_never_continues_a_chain_it_did_not_write()
    {
        var store = await CreateStoreAsync();
        await using (var before = new AuditRig(store))
        {
            for (var i = 0; i < 3; i++)
            {
                await before.Log.AppendAsync(AuditRig.Event(i, At.AddMinutes(i)), default);
            }
        }

        await using var after = new AuditRig(store);
        await after.Log.AppendAsync(AuditRig.Event(3, At.AddMinutes(3)), default);
        await after.Log.AppendAsync(AuditRig.Event(4, At.AddMinutes(4)), default);

        Assert.Equal(["2026/03/10/gw-1-09-001.ndjson", "2026/03/10/gw-1-09.ndjson"], await LogBlobsAsync(store));
        var verification = await after.Verifier.VerifyAsync(Day, default);
        Assert.Empty(verification.Breaks);
        Assert.Equal((2, 5), (verification.Blobs, verification.Events));
    }

    [Fact]
    public async Task A_blob_at_its_append_limit_rolls_over_to_a_new_part()
    {
        var store = await CreateStoreAsync();
        await using var rig = new AuditRig(store, maxAppendsPerBlob: 2);

        for (var i = 0; i < 5; i++)
        {
            await rig.Log.AppendAsync(AuditRig.Event(i, At.AddMinutes(i)), default);
        }

        Assert.Equal(["2026/03/10/gw-1-09-001.ndjson", "2026/03/10/gw-1-09-002.ndjson", "2026/03/10/gw-1-09.ndjson"], await LogBlobsAsync(store));
        Assert.Equal([1, 2, 2], (await Task.WhenAll((await LogBlobsAsync(store)).Select(b => LinesAsync(store, b)))).Select(l => l.Count).Order());
        Assert.Empty((await rig.Verifier.VerifyAsync(Day, default)).Breaks);
    }

    [Fact]
    public async Task Two_writers_given_the_same_instance_id_by_mistake_never_share_a_blob()
    {
        var store = await CreateStoreAsync();
        await using var one = new AuditRig(store);
        await using var other = new AuditRig(store);

        await Task.WhenAll(Enumerable.Range(0, 100).Select(i => (i % 2 == 0 ? one : other).Log.AppendAsync(AuditRig.Event(i, At.AddSeconds(i)), default)));

        Assert.Equal(2, (await LogBlobsAsync(store)).Count);
        var verification = await one.Verifier.VerifyAsync(Day, default);
        Assert.Empty(verification.Breaks);
        Assert.Equal(100, verification.Events);
    }

    [Fact]
    public async Task Many_writers_at_once_lose_no_event_and_break_no_chain()
    {
        var store = await CreateStoreAsync();
        var rigs = Enumerable.Range(1, 4).Select(n => new AuditRig(store, instance: $"gw-{n}")).ToList();

        // Across an hour boundary too, so each writer keeps two blobs going.
        await Task.WhenAll(Enumerable.Range(0, 600).Select(i =>
            rigs[i % 4].Log.AppendAsync(AuditRig.Event(i, At.AddMinutes(-5).AddSeconds(i)), default)));

        var verification = await rigs[0].Verifier.VerifyAsync(Day, default);
        Assert.Empty(verification.Breaks);
        Assert.Equal((8, 600), (verification.Blobs, verification.Events));
        var read = await rigs[0].Log.ReadAsync(Day, Day, default).ToListAsync();
        Assert.Equal(Enumerable.Range(0, 600).Select(i => $"corr-{i}").Order(), read.Select(CorrelationId).Order());
        foreach (var rig in rigs)
        {
            await rig.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_hand_edited_event_is_found_by_the_chain_check_with_its_blob_line_and_id()
    {
        var store = await CreateStoreAsync();
        await using var rig = new AuditRig(store);
        for (var i = 0; i < 5; i++)
        {
            await rig.Log.AppendAsync(AuditRig.Event(i, At.AddMinutes(i)), default);
        }

        var blob = Assert.Single(await LogBlobsAsync(store));
        var lines = await LinesAsync(store, blob);
        var edited = lines[2].Replace("9000000009", "9000000017", StringComparison.Ordinal);
        Assert.NotEqual(lines[2], edited);
        await ReplaceAsync(store, blob, [.. lines[..2], edited, .. lines[3..]]);

        var verification = await rig.Verifier.VerifyAsync(Day, default);

        var found = Assert.Single(verification.Breaks);
        Assert.Equal((blob, 4, IdOf(lines[3])), (found.Blob, found.Line, found.EventId));
        Assert.Contains($"does not follow line 3 (event {IdOf(lines[2])})", found.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_removed_event_is_found_by_the_chain_check()
    {
        var store = await CreateStoreAsync();
        await using var rig = new AuditRig(store);
        for (var i = 0; i < 4; i++)
        {
            await rig.Log.AppendAsync(AuditRig.Event(i, At.AddMinutes(i)), default);
        }

        var blob = Assert.Single(await LogBlobsAsync(store));
        var lines = await LinesAsync(store, blob);
        await ReplaceAsync(store, blob, [lines[0], lines[2], lines[3]]);

        var found = Assert.Single((await rig.Verifier.VerifyAsync(Day, default)).Breaks);

        Assert.Equal((2, IdOf(lines[2])), (found.Line, found.EventId));
    }

    [Fact]
    public async Task Once_a_day_is_rolled_up_an_edited_last_line_or_a_shortened_blob_is_found_too()
    {
        var store = await CreateStoreAsync();
        await using var rig = new AuditRig(store);
        for (var i = 0; i < 3; i++)
        {
            await rig.Log.AppendAsync(AuditRig.Event(i, At.AddMinutes(i)), default);
        }

        await rig.Rollups.GetAsync(Day, fromRawLog: false, default);
        var blob = Assert.Single(await LogBlobsAsync(store));
        var lines = await LinesAsync(store, blob);

        await ReplaceAsync(store, blob, [lines[0], lines[1], lines[2].Replace("N85001", "N85002", StringComparison.Ordinal)]);
        var edited = Assert.Single((await rig.Verifier.VerifyAsync(Day, default)).Breaks);
        await ReplaceAsync(store, blob, [lines[0], lines[1]]);
        var shortened = Assert.Single((await rig.Verifier.VerifyAsync(Day, default)).Breaks);

        Assert.Equal((3, IdOf(lines[2])), (edited.Line, edited.EventId));
        Assert.Contains("altered", edited.Problem, StringComparison.Ordinal);
        Assert.Contains("held 3 line(s) when the day was rolled up and now holds 2", shortened.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_last_line_cut_short_by_a_killed_writer_is_a_torn_tail_not_a_break_and_the_restarted_writer_starts_a_new_part()
    {
        var store = await CreateStoreAsync();
        await using (var killed = new AuditRig(store))
        {
            for (var i = 0; i < 3; i++)
            {
                await killed.Log.AppendAsync(AuditRig.Event(i, At.AddMinutes(i)), default);
            }
        }

        var blob = Assert.Single(await LogBlobsAsync(store));
        var whole = await LinesAsync(store, blob);
        // What a SIGKILL part-way through an append's write leaves: the start of a line, with no newline.
        await store.AppendAsync(blob, BinaryData.FromString(whole[0][..(whole[0].Length / 2)]), default);

        await using var restarted = new AuditRig(store);
        await restarted.Log.AppendAsync(AuditRig.Event(3, At.AddMinutes(3)), default);
        var verification = await restarted.Verifier.VerifyAsync(Day, default);
        await restarted.Rollups.GetAsync(Day, fromRawLog: false, default);
        var afterRollup = await restarted.Verifier.VerifyAsync(Day, default);

        Assert.Equal(["2026/03/10/gw-1-09-001.ndjson", blob], await LogBlobsAsync(store));
        Assert.Empty(verification.Breaks);
        var torn = Assert.Single(verification.TornTails);
        Assert.Equal((blob, 4), (torn.Blob, torn.Line));
        Assert.Equal(4, verification.Events);
        Assert.Empty(afterRollup.Breaks);
        Assert.Single(afterRollup.TornTails);
        Assert.Equal(["corr-0", "corr-1", "corr-2", "corr-3"], (await restarted.Log.ReadAsync(Day, Day, default).ToListAsync()).Select(CorrelationId));
    }

    [Fact]
    public async Task A_cut_short_line_that_is_not_the_unfinished_last_write_is_still_a_break()
    {
        var store = await CreateStoreAsync();
        await using var rig = new AuditRig(store);
        for (var i = 0; i < 3; i++)
        {
            await rig.Log.AppendAsync(AuditRig.Event(i, At.AddMinutes(i)), default);
        }

        var blob = Assert.Single(await LogBlobsAsync(store));
        var lines = await LinesAsync(store, blob);

        // Lines after it, or its newline, say the writer went on after it: that is damage, not an interrupted append.
        await ReplaceAsync(store, blob, [lines[0], lines[1][..(lines[1].Length / 2)], lines[2]]);
        var inTheMiddle = await rig.Verifier.VerifyAsync(Day, default);
        await ReplaceAsync(store, blob, [lines[0], lines[1], lines[2][..(lines[2].Length / 2)]]);
        var terminated = await rig.Verifier.VerifyAsync(Day, default);

        Assert.Equal(2, Assert.Single(inTheMiddle.Breaks).Line);
        Assert.Empty(inTheMiddle.TornTails);
        Assert.Equal(3, Assert.Single(terminated.Breaks).Line);
        Assert.Empty(terminated.TornTails);
    }

    internal static async Task<List<string>> LogBlobsAsync(IBlobStore store) =>
        await store.ListAsync("", default).Where(n => n.EndsWith(".ndjson", StringComparison.Ordinal)).ToListAsync();

    internal static async Task<List<string>> LinesAsync(IBlobStore store, string blob) =>
        [.. (await store.ReadAsync(blob, default))!.Content.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)];

    /// <summary>Rewrites a blob as someone with write access to the storage account could: the API offers no way.</summary>
    internal static async Task ReplaceAsync(IBlobStore store, string blob, IEnumerable<string> lines)
    {
        var etag = await store.GetETagAsync(blob, default);
        await store.WriteAsync(blob, BinaryData.FromString(string.Concat(lines.Select(l => l + "\n"))), etag, "application/fhir+ndjson", default);
    }

    private static string CorrelationId(Hl7.Fhir.Model.AuditEvent auditEvent) =>
        auditEvent.Entity.SelectMany(e => e.Detail).Where(d => d.Type == "correlation-id").Select(d => d.Value.ToString()!).Single();

    private static byte[]? LinkOf(string line) =>
        AuditChain.TryReadLink(Encoding.UTF8.GetBytes(line), out _, out var previous) ? previous : null;

    private static string? IdOf(string line) =>
        AuditChain.TryReadLink(Encoding.UTF8.GetBytes(line), out var id, out _) ? id : null;
}

public sealed class LocalFolderAuditStoreTests : AuditStoreContract, IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("wcr-audit-");

    protected override Task<IBlobStore> CreateStoreAsync() => Task.FromResult<IBlobStore>(new LocalFolderBlobStore(_folder.FullName));

    public void Dispose() => _folder.Delete(recursive: true);
}

public sealed class AzureBlobAuditStoreTests : AuditStoreContract
{
    protected override async Task<IBlobStore> CreateStoreAsync()
    {
        var azurite = await Azurite.InstanceAsync();
        return new AzureBlobStore(azurite.Client().GetBlobContainerClient(Azurite.NewPrefix() + "audit"));
    }
}
