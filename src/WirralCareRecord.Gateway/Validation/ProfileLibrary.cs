using Microsoft.Extensions.Options;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>
/// The process-wide <see cref="FirelyValidation"/>, loaded once: started by the background warm-up at start-up or
/// by the first caller, whichever comes first. Loading means reading the definitions, generating the Wirral
/// profiles' snapshots and compiling them on one validator (a few seconds).
/// </summary>
internal sealed class ProfileLibrary
{
    private readonly Lazy<Task<FirelyValidation>> _validation;
    private readonly ILogger<ProfileLibrary> _logger;

    public ProfileLibrary(IOptions<ValidationOptions> options, ILogger<ProfileLibrary> logger)
    {
        _logger = logger;
        var profiles = options.Value.Profiles;
        _validation = new Lazy<Task<FirelyValidation>>(() => Task.Run(() => Load(profiles)));
    }

    /// <summary>Wirral profiles without a snapshot, by URL; empty when all are ready.</summary>
    public IReadOnlyDictionary<string, string> Failures { get; private set; } = new Dictionary<string, string>();

    public int ProfileCount { get; private set; }

    public Task<FirelyValidation> ReadyAsync() => _validation.Value;

    /// <summary>The validation set-up, waiting for the load if it is still running.</summary>
    public FirelyValidation Validation => _validation.Value.GetAwaiter().GetResult();

    private FirelyValidation Load(string profiles)
    {
        FirelyValidation validation;
        TimeSpan elapsed;
        try
        {
            validation = FirelyValidation.For(profiles, ValidationOptions.Conformance);
            elapsed = validation.WarmUp();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            ValidationLog.ProfilesFailed(_logger, ex);
            throw;
        }

        // A broken profile shows in the logs and the readiness check at once.
        var failures = validation.SnapshotProblems();
        foreach (var (url, problem) in failures)
        {
            ValidationLog.ProfileFailed(_logger, url, problem);
        }

        Failures = failures;
        ProfileCount = validation.WirralProfiles.Count - failures.Count;
        ValidationLog.ProfilesLoaded(_logger, ProfileCount, elapsed.TotalMilliseconds);
        return validation;
    }
}
