using System.Globalization;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// The embedded audit store: FHIR bulk-data NDJSON, one file per instance per hour under <c>yyyy/MM/dd/</c>,
/// each event flushed to disk before <see cref="AppendAsync"/> returns.
/// </summary>
internal sealed class LocalFolderAuditStore(IOptions<AuditOptions> options, IHostEnvironment environment) : IAuditStore, IDisposable
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();
    private readonly string _root = Path.GetFullPath(options.Value.Folder, environment.ContentRootPath);
    private readonly string _instance = options.Value.InstanceId;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        var recorded = auditEvent.Recorded ?? DateTimeOffset.UtcNow;
        var path = PathFor(recorded.ToUniversalTime());
        var line = FhirJson.SerializeToUtf8(auditEvent);

        // The write must complete even if the caller goes away: a half-written line would corrupt the log.
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 4096, FileOptions.None);
            await stream.WriteAsync(line, CancellationToken.None);
            await stream.WriteAsync(NewLine, CancellationToken.None);
            stream.Flush(flushToDisk: true);
        }
        finally
        {
            _gate.Release();
        }
    }

    internal string PathFor(DateTimeOffset utc) => Path.Combine(
        _root,
        utc.ToString("yyyy", CultureInfo.InvariantCulture),
        utc.ToString("MM", CultureInfo.InvariantCulture),
        utc.ToString("dd", CultureInfo.InvariantCulture),
        $"{_instance}-{utc.ToString("HH", CultureInfo.InvariantCulture)}.ndjson");

    public void Dispose() => _gate.Dispose();
}
