using System.Text.Json;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>
/// The registry read from a JSON seed file, reloaded when the file changes. A file that becomes invalid
/// keeps the last good registry and is logged, so a bad edit never empties the federation.
/// </summary>
internal sealed partial class SeedFileOrganisationRegistry : IOrganisationRegistry, IDisposable
{
    private readonly string _path;
    private readonly PhysicalFileProvider _files;
    private readonly ILogger<SeedFileOrganisationRegistry> _logger;
    private readonly IDisposable _watch;
    private volatile RegistrySnapshot _current;
    private CancellationTokenSource _changed = new();

    public SeedFileOrganisationRegistry(IOptions<RegistryOptions> options, IHostEnvironment environment, ILogger<SeedFileOrganisationRegistry> logger)
    {
        _logger = logger;
        _path = Path.GetFullPath(options.Value.SeedPath, environment.ContentRootPath);
        if (!File.Exists(_path))
        {
            throw new FileNotFoundException($"Registry:SeedPath names '{_path}', which does not exist.", _path);
        }

        _current = Load(_path);
        _files = new PhysicalFileProvider(Path.GetDirectoryName(_path)!);
        _watch = ChangeToken.OnChange(() => _files.Watch(Path.GetFileName(_path)), Reload);
        Log.Loaded(_logger, _current.Organisations.Count, _current.Agreements.Count);
    }

    public RegistrySnapshot Current => _current;

    public IChangeToken GetChangeToken() => new CancellationChangeToken(_changed.Token);

    internal static RegistrySnapshot Load(string path)
    {
        using var stream = File.OpenRead(path);
        var file = JsonSerializer.Deserialize<RegistrySeedFile>(stream, RegistrySeedFile.JsonOptions)
            ?? throw new InvalidDataException($"The registry seed file '{path}' is empty.");
        return file.ToSnapshot();
    }

    private void Reload()
    {
        try
        {
            _current = Load(_path);
            Log.Loaded(_logger, _current.Organisations.Count, _current.Agreements.Count);
            var previous = Interlocked.Exchange(ref _changed, new CancellationTokenSource());
            previous.Cancel();
            previous.Dispose();
        }
        catch (Exception ex) when (ex is IOException or JsonException or InvalidDataException)
        {
            Log.ReloadFailed(_logger, ex);
        }
    }

    public void Dispose()
    {
        _watch.Dispose();
        _files.Dispose();
        _changed.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Registry loaded: {Organisations} organisations, {Agreements} agreements")]
        public static partial void Loaded(ILogger logger, int organisations, int agreements);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Error, Message = "Registry seed file changed but could not be loaded; keeping the previous registry")]
        public static partial void ReloadFailed(ILogger logger, Exception exception);
    }
}
