using System.Collections.Concurrent;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>
/// Each source's CapabilityStatement, read once and kept (keyed by ODS code and base URL) until the registry changes,
/// when a source may have moved or been upgraded. Reads of one source share one fetch. A statement that cannot be read
/// means the safe strategy (a search per type) and is tried again after <see cref="RetryUnknownAfter"/>.
/// </summary>
internal sealed partial class SourceCapabilities : IDisposable
{
    public static readonly TimeSpan RetryUnknownAfter = TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<string, Lazy<Task<SourceCapability>>> _cache = new(StringComparer.Ordinal);
    private readonly FhirSourceClient _client;
    private readonly IOptions<FederationOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SourceCapabilities> _logger;
    private readonly IDisposable _onRegistryChange;

    public SourceCapabilities(FhirSourceClient client, IOrganisationRegistry registry, IOptions<FederationOptions> options, TimeProvider time, ILogger<SourceCapabilities> logger)
    {
        _client = client;
        _options = options;
        _time = time;
        _logger = logger;
        _onRegistryChange = ChangeToken.OnChange(registry.GetChangeToken, _cache.Clear);
    }

    /// <summary>What the source says it supports; waits for a fetch already under way rather than starting another.</summary>
    public async Task<SourceCapability> ForAsync(Organisation source, string correlationId, CancellationToken cancellationToken)
    {
        var key = source.OdsCode + "|" + source.FhirBaseUrl;
        var entry = _cache.GetOrAdd(key, _ => new Lazy<Task<SourceCapability>>(() => ReadAsync(source, correlationId)));
        var capability = await entry.Value.WaitAsync(cancellationToken);
        if (!capability.Known && _time.GetUtcNow() - capability.ReadAt >= RetryUnknownAfter)
        {
            // Forget the failure so the next read tries again; this one goes ahead with the safe strategy.
            _cache.TryRemove(new KeyValuePair<string, Lazy<Task<SourceCapability>>>(key, entry));
        }

        return capability;
    }

    private async Task<SourceCapability> ReadAsync(Organisation source, string correlationId)
    {
        // Not tied to the first reader's request: the fetch is shared, so it gets its own time limit.
        using var timeout = new CancellationTokenSource(source.Timeout ?? _options.Value.SourceTimeout);
        try
        {
            var statement = await _client.ReadAsync<CapabilityStatement>(source.OdsCode, $"{source.FhirBaseUrl.ToString().TrimEnd('/')}/metadata", correlationId, timeout.Token);
            var rest = statement.Rest.FirstOrDefault(r => r.Mode == CapabilityStatement.RestfulCapabilityMode.Server);
            var patient = rest?.Resource.FirstOrDefault(r => r.Type == "Patient");
            var capability = new SourceCapability(
                true,
                (patient?.SearchRevInclude ?? []).OfType<string>().Where(v => v.Length > 0).Select(v => v.Trim()).ToHashSet(StringComparer.Ordinal),
                rest?.Interaction.Any(i => i.Code == CapabilityStatement.SystemRestfulInteraction.Batch) == true,
                _time.GetUtcNow());
            Log.Read(_logger, source.OdsCode, capability.PatientRevIncludes.Count, capability.Batch);
            return capability;
        }
        catch (Exception ex)
        {
            // Whatever went wrong, the fetch is shared and cached: it must end in an answer, never a fault every read repeats.
            Log.Unreadable(_logger, source.OdsCode, ex is SourceFailureException or HttpRequestException ? ex.Message : ex.GetType().Name);
            return SourceCapability.Unknown(_time.GetUtcNow());
        }
    }

    public void Dispose() => _onRegistryChange.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 230, Level = LogLevel.Information, Message = "Source {OdsCode} capabilities read: {RevIncludes} reverse includes on Patient, batch {Batch}")]
        public static partial void Read(ILogger logger, string odsCode, int revIncludes, bool batch);

        [LoggerMessage(EventId = 231, Level = LogLevel.Warning, Message = "Source {OdsCode} CapabilityStatement could not be read ({Reason}); searching per type")]
        public static partial void Unreadable(ILogger logger, string odsCode, string reason);
    }
}
