using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Storage;

using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Audit;

/// <summary>
/// The audit log's parts wired by hand over one blob store, as the gateway wires them, for tests that need several
/// writers on one store, a writer restarted, or a store that misbehaves on purpose.
/// </summary>
internal sealed class AuditRig : IAsyncDisposable
{
    private static readonly Lazy<IMeterFactory> Meters = new(() => new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());

    public AuditRig(IBlobStore store, string instance = "gw-1", int maxAppendsPerBlob = 50_000, TimeProvider? time = null, IOrganisationRegistry? registry = null, TimeSpan? writeTimeout = null, string? pseudonymKey = null)
    {
        var stores = new OneStore(store);
        // The clock only decides which days are sealed; the writer's time limit runs on it, so it must tick.
        Time = time ?? new ShiftedTime(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
        var options = Options.Create(new AuditOptions
        {
            InstanceId = instance,
            MaxAppendsPerBlob = maxAppendsPerBlob,
            RollupInterval = TimeSpan.Zero,
            WriteTimeout = writeTimeout ?? TimeSpan.FromSeconds(30),
            PseudonymKey = pseudonymKey,
        });
        Registry = registry ?? new FixedRegistry([]);
        Reader = new AuditLogReader(stores, NullLogger<AuditLogReader>.Instance);
        Telemetry = new GatewayTelemetry(Meters.Value);
        Log = new AuditLog(stores, Reader, options, Telemetry, Time, NullLogger<AuditLog>.Instance);
        Pseudonyms = new AuditPseudonyms(stores, options);
        Rollups = new AuditRollups(stores, Reader, Pseudonyms, Registry, Time, options, NullLogger<AuditRollups>.Instance);
        Verifier = new AuditChainVerifier(Reader, Rollups);
        Reports = new StoryOnceReports(Rollups, Registry, Time);
    }

    public TimeProvider Time { get; }

    public IOrganisationRegistry Registry { get; }

    public AuditLogReader Reader { get; }

    public GatewayTelemetry Telemetry { get; }

    public AuditLog Log { get; }

    public AuditPseudonyms Pseudonyms { get; }

    public AuditRollups Rollups { get; }

    public AuditChainVerifier Verifier { get; }

    public StoryOnceReports Reports { get; }

    /// <summary>A federated read's audit entry, recorded at <paramref name="recorded"/>; <paramref name="n"/> tells events apart.</summary>
    public static AuditEntry Event(int n, DateTimeOffset recorded, string instance = "gw-1", string nhs = "9000000009") =>
        new(
            new AccessAudit(
                AccessKind.FederatedRead,
                "corr-" + n.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "user-" + (n % 7).ToString(System.Globalization.CultureInfo.InvariantCulture),
                null,
                ["Clinician"],
                "N85001",
                "TREAT",
                nhs,
                "GET /fhir/Patient/$wcr-getrecord",
                200,
                null,
                [new SourceAuditEntry("RBL", "returned", 3, 0, 2), new SourceAuditEntry("N85002", "no-match", 0, 0, 1)]),
            recorded,
            instance);

    public async ValueTask DisposeAsync()
    {
        await Log.DisposeAsync();
        Telemetry.Dispose();
        Pseudonyms.Dispose();
    }

}

/// <summary>The system clock moved to a fixed starting date, so which days are sealed does not depend on when tests run.</summary>
internal sealed class ShiftedTime(DateTimeOffset start) : TimeProvider
{
    private readonly TimeSpan _shift = start - System.GetUtcNow();

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + _shift;
}

/// <summary>A registry that holds what a test gives it, for figures that depend on organisations' kinds and staff counts.</summary>
internal sealed class FixedRegistry(IReadOnlyList<Organisation> organisations) : IOrganisationRegistry
{
    public RegistrySnapshot Current { get; } = new(organisations, []);

    public IChangeToken GetChangeToken() => new CancellationChangeToken(CancellationToken.None);
}

/// <summary>
/// A blob store that counts appends and can hold them (to let concurrent events queue up behind one) or fail them (storage
/// down), passing everything else through.
/// </summary>
internal sealed class ObservedBlobStore(IBlobStore inner) : DelegatingBlobStore(inner)
{
    private int _appends;

    public int Appends => Volatile.Read(ref _appends);

    /// <summary>While set, appends wait for it.</summary>
    public TaskCompletionSource? Hold { get; set; }

    /// <summary>Completes when an append is waiting on <see cref="Hold"/>.</summary>
    public TaskCompletionSource Holding { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>While set, every write fails with it.</summary>
    public Exception? Failure { get; set; }

    public override async Task AppendAsync(string name, BinaryData content, CancellationToken cancellationToken)
    {
        if (Hold is { } hold)
        {
            Holding.TrySetResult();
            await hold.Task;
        }

        if (Failure is { } failure)
        {
            throw failure;
        }

        Interlocked.Increment(ref _appends);
        await base.AppendAsync(name, content, cancellationToken);
    }

    public override Task<string> WriteAsync(string name, BinaryData content, string? expectedETag, string contentType, CancellationToken cancellationToken) =>
        Failure is { } failure ? Task.FromException<string>(failure) : base.WriteAsync(name, content, expectedETag, contentType, cancellationToken);

    public override Task ProbeAsync(CancellationToken cancellationToken) => Failure is { } failure ? Task.FromException(failure) : base.ProbeAsync(cancellationToken);
}
