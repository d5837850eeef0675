using System.Diagnostics;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Validation.Rules;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>
/// The gateway's definitions, loaded once: started by the background warm-up at start-up or by the first caller,
/// whichever comes first, and shared by every host in the process (<see cref="ValidationEngine.For"/>).
/// </summary>
internal sealed class ProfileLibrary
{
    private readonly Lazy<Task<ValidationEngine>> _engine;
    private readonly ILogger<ProfileLibrary> _logger;

    public ProfileLibrary(IOptions<ValidationOptions> options, ILogger<ProfileLibrary> logger)
    {
        _logger = logger;
        var paths = options.Value.Paths();
        _engine = new Lazy<Task<ValidationEngine>>(() => Task.Run(() => Load(paths)));
    }

    /// <summary>Wirral profiles that could not be compiled, by URL; empty when all are ready.</summary>
    public IReadOnlyDictionary<string, string> Failures { get; private set; } = new Dictionary<string, string>();

    public int ProfileCount { get; private set; }

    public Task<ValidationEngine> ReadyAsync() => _engine.Value;

    /// <summary>The engine, waiting for the load if it is still running (seconds, once per process).</summary>
    public ValidationEngine Engine => _engine.Value.GetAwaiter().GetResult();

    private ValidationEngine Load(Definitions.DefinitionPaths paths)
    {
        var started = Stopwatch.GetTimestamp();
        ValidationEngine engine;
        try
        {
            engine = ValidationEngine.For(paths);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            ValidationLog.ProfilesFailed(_logger, ex);
            throw;
        }

        // Compiling every Wirral profile now means a broken one shows in the logs and the readiness check at once.
        var failures = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var profile in engine.Definitions.WirralProfiles)
        {
            if (profile.Url is null || engine.Profile(profile.Url) is null)
            {
                var problem = engine.CompileFailures.GetValueOrDefault(profile.Url ?? string.Empty, "no snapshot could be generated");
                failures[profile.Url ?? profile.Id ?? "?"] = problem;
                ValidationLog.ProfileFailed(_logger, profile.Url ?? profile.Id ?? "?", problem);
            }
        }

        Failures = failures;
        ProfileCount = engine.Definitions.WirralProfiles.Count - failures.Count;
        ValidationLog.ProfilesLoaded(_logger, ProfileCount, engine.Definitions.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return engine;
    }
}
