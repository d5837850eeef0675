using System.Diagnostics;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Storage;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>
/// Keeps locator entries from going stale: every <see cref="LocatorOptions.ResweepInterval"/> it finds patients whose
/// last full sweep is older than <see cref="LocatorOptions.StaleAfter"/> and asks every live source whether it holds
/// them. Only the Patient search is made (no record is fetched, and nobody is shown anything), each under the source's
/// own timeout and breaker, and each re-sweep is audited as a system access. Instances share the work: an entry is
/// claimed with its ETag before it is swept, so two instances never sweep the same patient at once.
/// </summary>
internal sealed partial class LocatorResweeper(
    LocatorStore store,
    RecordLocator locator,
    FederatedRecordService federation,
    IOrganisationRegistry registry,
    AuditTrail audit,
    IOptions<LocatorOptions> options,
    TimeProvider time,
    ILogger<LocatorResweeper> logger) : BackgroundService
{
    public const string Request = "Background re-sweep by the record locator";

    /// <summary>How long an instance's claim on an entry stands; past it, a sweep that died half-way is taken over.</summary>
    private static readonly TimeSpan ClaimLifetime = TimeSpan.FromMinutes(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled || !settings.BackgroundResweep)
        {
            return;
        }

        using var timer = new PeriodicTimer(settings.ResweepInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var swept = await SweepStaleAsync(stoppingToken);
                if (swept > 0)
                {
                    Log.Pass(logger, swept);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The next pass tries again; reads meanwhile use the entries as they are.
                Log.PassFailed(logger, ex);
            }
        }
    }

    /// <summary>One pass: re-sweeps up to <see cref="LocatorOptions.ResweepBatchSize"/> stale entries; returns how many.</summary>
    public async Task<int> SweepStaleAsync(CancellationToken cancellationToken)
    {
        var swept = 0;
        await foreach (var name in store.ListAsync(cancellationToken))
        {
            if (swept >= options.Value.ResweepBatchSize)
            {
                break;
            }

            if (await store.ReadNamedAsync(name, cancellationToken) is not { } entry || !IsStale(entry.Document))
            {
                continue;
            }

            // A patient who objected to sharing is not asked about: no source hears their NHS number from the gateway.
            if (registry.Current.ObjectionFor(entry.Document.NhsNumber) is not null || !await ClaimAsync(name, entry, cancellationToken))
            {
                continue;
            }

            await ResweepAsync(entry.Document.NhsNumber, cancellationToken);
            swept++;
        }

        return swept;
    }

    private bool IsStale(LocatorDocument document)
    {
        var now = time.GetUtcNow();
        return (document.LastSweep is not { } last || now - last >= options.Value.StaleAfter)
            && (document.SweepClaimedAt is not { } claimed || now - claimed >= ClaimLifetime);
    }

    private async Task<bool> ClaimAsync(string name, StoredLocatorEntry entry, CancellationToken cancellationToken)
    {
        try
        {
            await store.WriteClaimAsync(name, entry, time.GetUtcNow(), cancellationToken);
            return true;
        }
        catch (StorageConflictException)
        {
            // Another instance claimed it, or a read learned something: either way it is not ours this pass.
            return false;
        }
    }

    private async Task ResweepAsync(string nhsNumber, CancellationToken cancellationToken)
    {
        var snapshot = registry.Current;
        var today = UkDate.Today(time);
        // Every source anyone may see: live, or in pilot, and a provider under an agreement in force.
        var sources = snapshot.Organisations
            .Where(o => o.State is LifecycleState.Live or LifecycleState.Pilot
                && snapshot.Agreements.Any(a => a.IsActiveOn(today) && a.Providers.Contains(o.OdsCode, StringComparer.OrdinalIgnoreCase)))
            .ToList();
        var correlationId = ActivityTraceId.CreateRandom().ToString();
        var results = await federation.LocateAsync(sources, nhsNumber, correlationId, cancellationToken);

        var held = results.Where(r => r.Outcome is SourceOutcome.Located or SourceOutcome.Conflict).Select(r => r.OdsCode).ToList();
        var notHeld = results.Where(r => r.Outcome == SourceOutcome.NoMatch).Select(r => r.OdsCode).ToList();
        var named = results.Where(r => r.Outcome == SourceOutcome.Located).SelectMany(r => r.RegisteredPractices).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

        // Audited before what was learned is stored: if the audit log cannot be written, the locator is not changed.
        await audit.RecordAsync(
            AccessAudit.For(
                caller: null,
                AccessKind.FederatedRead,
                correlationId,
                nhsNumber,
                Request,
                StatusCodes.Status200OK,
                $"Background re-sweep by the record locator (a system access, no user): {sources.Count} source(s) asked whether they hold this NHS number by a Patient search only; no record was fetched. {held.Count} hold it, {notHeld.Count} do not, {results.Count - held.Count - notHeld.Count} could not be asked.",
                [.. results.Select(r => new SourceAuditEntry(r.OdsCode, SourceResult.Code(r.Outcome), 0, 0, r.Calls))]),
            cancellationToken);

        // A sweep that could not ask every source does not count as one: the claim lapses and a later pass tries again.
        var everyoneAnswered = held.Count + notHeld.Count == results.Count;
        await locator.StoreAsync(nhsNumber, new LocatorObservation(time.GetUtcNow(), held, notHeld, [.. held, .. notHeld], named, everyoneAnswered, DemographicsChecked: false), correlationId, cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 225, Level = LogLevel.Information, Message = "Record locator re-swept {Patients} stale entries")]
        public static partial void Pass(ILogger logger, int patients);

        [LoggerMessage(EventId = 226, Level = LogLevel.Warning, Message = "Record locator background re-sweep pass failed")]
        public static partial void PassFailed(ILogger logger, Exception exception);
    }
}
