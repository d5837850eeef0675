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

    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_root);
        var probe = Path.Combine(_root, $".probe-{_instance}-{Guid.NewGuid():N}");
        await File.WriteAllBytesAsync(probe, NewLine, cancellationToken);
        File.Delete(probe);
    }

    public async IAsyncEnumerable<AuditEvent> ReadAsync(DateOnly firstDay, DateOnly lastDay, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var day = firstDay; day <= lastDay; day = day.AddDays(1))
        {
            var folder = Path.GetDirectoryName(PathFor(new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)))!;
            if (!Directory.Exists(folder))
            {
                continue;
            }

            foreach (var file in Directory.EnumerateFiles(folder, "*.ndjson").Order(StringComparer.Ordinal))
            {
                // FileShare.ReadWrite: a gateway instance may be appending to this hour's file while an auditor reads it.
                using var reader = new StreamReader(new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
                while (await reader.ReadLineAsync(cancellationToken) is { } line)
                {
                    if (line.Length > 0)
                    {
                        yield return System.Text.Json.JsonSerializer.Deserialize<AuditEvent>(line, FhirJson.Strict)!;
                    }
                }
            }
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
