using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using WirralCareRecord.Gateway.Storage;

namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>
/// The registry kept as one JSON document in the registry container and changed only with its ETag, so two admins
/// or two instances never overwrite each other. Each instance polls the ETag and raises its change token when another
/// instance changed the registry, which is how YARP routes and federation follow a suspension everywhere.
/// </summary>
internal sealed partial class ManagedOrganisationRegistry : IOrganisationRegistry, IDisposable
{
    internal const string BlobName = "registry.json";
    private const int MaxAttempts = 10;
    private readonly IBlobStore _store;
    private readonly ILogger<ManagedOrganisationRegistry> _logger;
    private readonly SourceConnectionRule _urls;
    // One change or poll at a time on this instance. A poll that read the registry just before this instance's own
    // change was stored would otherwise publish that older registry after it: a suspension made here would be undone
    // here until the next poll noticed.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile Loaded _loaded;
    private CancellationTokenSource _changed = new();

    public ManagedOrganisationRegistry(IBlobStores stores, IOptions<RegistryOptions> options, IHostEnvironment environment, SourceConnectionRule urls, ILogger<ManagedOrganisationRegistry> logger)
    {
        _store = stores[StorageContainer.Registry];
        _logger = logger;
        _urls = urls;

        // The gateway can do nothing without its registry, and every consumer wants it synchronously; so it is read
        // (or seeded) once, here, and a registry that cannot be read stops start-up rather than serving an empty one.
        _loaded = LoadOrSeedAsync(options.Value.SeedPath is { Length: > 0 } seed ? Path.GetFullPath(seed, environment.ContentRootPath) : null)
            .GetAwaiter().GetResult();
        _urls.Check(_loaded.Snapshot);
        Log.Loaded(_logger, _loaded.Snapshot.Organisations.Count, _loaded.Snapshot.Agreements.Count);
    }

    public RegistrySnapshot Current => _loaded.Snapshot;

    public IChangeToken GetChangeToken() => new CancellationChangeToken(_changed.Token);

    /// <summary>
    /// Applies <paramref name="change"/> to the latest stored registry and stores the result. Another writer getting
    /// there first means re-reading and re-applying, so the change is always judged against what is really stored;
    /// <paramref name="change"/> throws to refuse.
    /// </summary>
    /// <param name="beforeWrite">Runs once the change is judged and before it is stored (the audit); its failure stops the write.</param>
    public async Task<RegistrySnapshot> UpdateAsync(Func<RegistrySnapshot, RegistrySnapshot> change, Func<RegistrySnapshot, Task>? beforeWrite, CancellationToken cancellationToken)
    {
        // Changes here queue rather than race, so only other instances can cause a retry.
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return await UpdateOnceAsync(change, beforeWrite, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<RegistrySnapshot> UpdateOnceAsync(Func<RegistrySnapshot, RegistrySnapshot> change, Func<RegistrySnapshot, Task>? beforeWrite, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var latest = await ReadAsync(cancellationToken) ?? new Loaded(RegistrySnapshot.Empty, null);
            var next = change(latest.Snapshot);
            if (beforeWrite is not null)
            {
                await beforeWrite(next);
            }

            try
            {
                var etag = await _store.WriteAsync(BlobName, Serialize(next), latest.ETag, "application/json", cancellationToken);
                Publish(new Loaded(next, etag));
                return next;
            }
            catch (StorageConflictException) when (attempt < MaxAttempts)
            {
                // Another instance wrote between our read and our write: go round again with its change included,
                // after a random pause so two instances do not keep colliding in step.
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20 * attempt)), cancellationToken);
            }
        }
    }

    /// <summary>Picks up changes made by other instances; cheap when nothing changed (one ETag request).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var etag = await _store.GetETagAsync(BlobName, cancellationToken);
            if (etag is not null && etag != _loaded.ETag && await ReadAsync(cancellationToken) is { } latest)
            {
                Publish(latest);
                Log.Reloaded(_logger, latest.Snapshot.Organisations.Count, latest.Snapshot.Agreements.Count);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    internal static BinaryData Serialize(RegistrySnapshot snapshot) =>
        BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(RegistryDocument.FromSnapshot(snapshot), RegistryDocument.JsonOptions));

    internal static RegistrySnapshot Parse(BinaryData content, string origin) =>
        (JsonSerializer.Deserialize<RegistryDocument>(content.ToMemory().Span, RegistryDocument.JsonOptions)
            ?? throw new InvalidDataException($"The registry document {origin} is empty.")).ToSnapshot();

    private async Task<Loaded?> ReadAsync(CancellationToken cancellationToken) =>
        await _store.ReadAsync(BlobName, cancellationToken) is { } blob
            ? new Loaded(Parse(blob.Content, "in storage"), blob.ETag)
            : null;

    private async Task<Loaded> LoadOrSeedAsync(string? seedPath)
    {
        if (await ReadAsync(CancellationToken.None) is { } stored)
        {
            return stored;
        }

        if (seedPath is null)
        {
            return new Loaded(RegistrySnapshot.Empty, null);
        }

        if (!File.Exists(seedPath))
        {
            throw new FileNotFoundException($"Registry:SeedPath names '{seedPath}', which does not exist.", seedPath);
        }

        var seed = Parse(BinaryData.FromBytes(await File.ReadAllBytesAsync(seedPath)), $"'{seedPath}'");
        try
        {
            var etag = await _store.WriteAsync(BlobName, Serialize(seed), null, "application/json", CancellationToken.None);
            Log.Seeded(_logger, seed.Organisations.Count);
            return new Loaded(seed, etag);
        }
        catch (StorageConflictException)
        {
            // Another instance seeded at the same moment; theirs is the registry now.
            return await ReadAsync(CancellationToken.None) ?? throw new InvalidOperationException("The registry vanished while it was being seeded.");
        }
    }

    private void Publish(Loaded loaded)
    {
        _loaded = loaded;
        var previous = Interlocked.Exchange(ref _changed, new CancellationTokenSource());
        previous.Cancel();
        previous.Dispose();
    }

    public void Dispose()
    {
        _changed.Dispose();
        _gate.Dispose();
    }

    private sealed record Loaded(RegistrySnapshot Snapshot, string? ETag);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Registry loaded: {Organisations} organisations, {Agreements} agreements")]
        public static partial void Loaded(ILogger logger, int organisations, int agreements);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Registry changed elsewhere and reloaded: {Organisations} organisations, {Agreements} agreements")]
        public static partial void Reloaded(ILogger logger, int organisations, int agreements);

        [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Storage held no registry; seeded it with {Organisations} organisations")]
        public static partial void Seeded(ILogger logger, int organisations);
    }
}

/// <summary>Polls storage so changes made on other instances reach this one within <see cref="RegistryOptions.PollInterval"/>.</summary>
internal sealed partial class RegistryPoller(ManagedOrganisationRegistry registry, IOptions<RegistryOptions> options, TimeProvider time, ILogger<RegistryPoller> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.PollInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await registry.RefreshAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Keep the last good registry: a storage blip must not empty the federation.
                Log.RefreshFailed(logger, ex);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Could not check storage for registry changes; keeping the current registry")]
        public static partial void RefreshFailed(ILogger logger, Exception exception);
    }
}
