using System.Globalization;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Agreements;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>How the sources of a read were chosen.</summary>
public enum SourceSelection
{
    /// <summary>The locator's organisations for the patient, those asked for every patient, and the caller's own.</summary>
    Locator,

    /// <summary>The caller asked for a full sweep: every source they may see.</summary>
    Sweep,

    /// <summary>The locator held nothing for the patient: every source, once, and the locator learns from it.</summary>
    FirstRead,

    /// <summary>None of the locator's organisations returned the patient, so every other source was asked too.</summary>
    LocatorThenSweep,

    /// <summary>The locator's storage could not be read: every source, rather than a narrower answer than it should be.</summary>
    LocatorUnavailable,

    /// <summary><c>Locator:Enabled</c> is false: every source, as before the locator.</summary>
    Disabled,
}

/// <summary>Which of the sources a caller may see are asked for one read, and why.</summary>
/// <param name="Asked">Always a subset of what the sharing rules grant: the locator narrows, never widens.</param>
/// <param name="NotAsked">Granted sources left out; asked after all when none of <paramref name="Asked"/> returns the patient.</param>
/// <param name="LastSweep">When every source was last asked about this patient, as the locator had it before this read.</param>
/// <param name="RegisteredPractices">The demographics service's answer, when it was asked and answered.</param>
/// <param name="Known">The locator entry the plan was made from, so a read that teaches nothing new need not read it again.</param>
/// <param name="Service">The demographics service's whole answer when it was asked for this plan, so corroboration reuses it.</param>
public sealed record SourcePlan(
    SourceSelection Selection,
    IReadOnlyList<SourceGrant> Asked,
    IReadOnlyList<SourceGrant> NotAsked,
    DateTimeOffset? LastSweep,
    IReadOnlyList<string>? RegisteredPractices,
    LocatorDocument? Known = null,
    DemographicsAnswer? Service = null)
{
    public int Granted => Asked.Count + NotAsked.Count;

    public bool AskedEveryone => NotAsked.Count == 0;

    /// <summary>The plan once the locator's organisations returned nothing and the rest are asked too.</summary>
    public SourcePlan ThenEveryone() => this with { Selection = SourceSelection.LocatorThenSweep, Asked = [.. Asked, .. NotAsked], NotAsked = [] };

    public string Code => Selection switch
    {
        SourceSelection.Locator => "locator",
        SourceSelection.Sweep => "sweep",
        SourceSelection.FirstRead => "first-read",
        SourceSelection.LocatorThenSweep => "locator-then-sweep",
        SourceSelection.LocatorUnavailable => "locator-unavailable",
        SourceSelection.Disabled => "disabled",
        _ => throw new InvalidOperationException(),
    };

    /// <summary>For the audit event's request description: how the sources were chosen, and how many.</summary>
    public string AuditNote => Selection switch
    {
        SourceSelection.Locator => $"sources chosen by the record locator: {Asked.Count} of {Granted}",
        SourceSelection.Sweep => $"full sweep requested by the caller: all {Granted} sources",
        SourceSelection.FirstRead => $"no record locator entry, so a sweep: all {Granted} sources",
        SourceSelection.LocatorThenSweep => $"record locator's sources returned nothing, so a sweep: all {Granted} sources",
        SourceSelection.LocatorUnavailable => $"record locator unavailable, so a sweep: all {Granted} sources",
        _ => $"record locator off: all {Granted} sources",
    };
}

/// <summary>
/// The record locator: for an NHS number, the organisations known to hold a record, so a read asks those (and the
/// organisations that take part in every read) rather than every practice onboarded. It learns from every read and sweep:
/// sources that return the patient are kept with the time last seen, the practices named as the patient's GP are added,
/// and a source that says it does not know the patient is dropped. Entries live in Blob storage, shared by every instance.
/// </summary>
internal sealed partial class RecordLocator(
    LocatorStore store,
    DemographicsService demographics,
    IOptions<LocatorOptions> options,
    TimeProvider time,
    ILogger<RecordLocator> logger)
{
    private static readonly TimeZoneInfo UkTime = FindUkTime();

    /// <summary>Chooses which of <paramref name="granted"/> to ask. Never fails: without the locator, everyone is asked.</summary>
    public async Task<SourcePlan> PlanAsync(IReadOnlyList<SourceGrant> granted, string? callerOds, string nhsNumber, bool sweep, string correlationId, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            return new SourcePlan(SourceSelection.Disabled, granted, [], null, null);
        }

        if (sweep)
        {
            var named = await demographics.LookUpAsync(nhsNumber, correlationId, cancellationToken);
            return new SourcePlan(SourceSelection.Sweep, granted, [], null, named?.Practices, Service: named);
        }

        StoredLocatorEntry? entry;
        try
        {
            using var bounded = Bounded(cancellationToken);
            entry = await store.ReadAsync(nhsNumber, bounded.Token);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // A read that cannot narrow asks everyone: slower, and more practices see the query, but nothing is missed.
            Log.Unreadable(logger, correlationId, ex);
            return new SourcePlan(SourceSelection.LocatorUnavailable, granted, [], null, null);
        }

        var document = entry?.Document;
        var lastChecked = document?.DemographicsCheckedAt;
        var answer = lastChecked is null || time.GetUtcNow() - lastChecked >= settings.DemographicsRefreshAfter
            ? await demographics.LookUpAsync(nhsNumber, correlationId, cancellationToken)
            : null;
        var practices = answer?.Practices;
        if (document is null || (document.Holders.Count == 0 && practices is not { Count: > 0 }))
        {
            return new SourcePlan(SourceSelection.FirstRead, granted, [], document?.LastSweep, practices, document, answer);
        }

        var wanted = document.Holders.Select(h => h.OdsCode)
            .Concat(practices ?? [])
            .Concat(settings.AskCallerOrganisation && callerOds is not null ? [callerOds] : [])
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        // A granted source the locator has never heard from about this patient (onboarded since, or outside the grants
        // of whoever read before) is asked once: afterwards it is a holder or has said no.
        var asked = granted.Where(g => wanted.Contains(g.Source.OdsCode) || settings.IsAlwaysAsked(g.Source) || !document.Knows(g.Source.OdsCode)).ToList();
        var notAsked = granted.Where(g => !asked.Contains(g)).ToList();
        return asked.Count == 0
            ? new SourcePlan(SourceSelection.LocatorThenSweep, granted, [], document.LastSweep, practices, document, answer)
            : new SourcePlan(SourceSelection.Locator, asked, notAsked, document.LastSweep, practices, document, answer);
    }

    /// <summary>
    /// Stores what the read taught: who holds the patient, who does not, and who is named as the GP. A failure is
    /// logged and swallowed: the record has been fetched and the next read will learn again.
    /// </summary>
    /// <returns>The entry as stored (or as it was, when nothing worth storing changed); null when there is none or it failed.</returns>
    public async Task<LocatorDocument?> LearnAsync(string nhsNumber, SourcePlan plan, IReadOnlyList<SourceResult> results, string correlationId, CancellationToken cancellationToken)
    {
        if (plan.Selection == SourceSelection.Disabled)
        {
            return null;
        }

        var held = results.Where(r => r.Outcome is SourceOutcome.Returned or SourceOutcome.DemographicsDiffer or SourceOutcome.Conflict).Select(r => r.OdsCode).ToList();
        var notHeld = results.Where(r => r.Outcome == SourceOutcome.NoMatch).Select(r => r.OdsCode).ToList();
        // Only a patient confirmed as this one may say who the GP is: another person's record names another person's practice.
        var named = results.Where(r => r.Outcome == SourceOutcome.Returned && r.Patient is not null)
            .SelectMany(r => FhirSourceClient.RegisteredPracticesOf(r.Patient!))
            .Concat(plan.RegisteredPractices ?? [])
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToList();
        var seen = new LocatorObservation(time.GetUtcNow(), held, notHeld, [.. held, .. notHeld], named, plan.AskedEveryone, plan.RegisteredPractices is not null);
        if (plan.Known is { } known && !LocatorLearning.Apply(known, nhsNumber, seen, options.Value.StaleAfter).Changed)
        {
            // A warm read of a well-known patient teaches nothing new: no second read of the entry, no write. Should
            // another instance have changed it meanwhile, the next read starts from that and learns again.
            return known;
        }

        return await StoreAsync(nhsNumber, seen, correlationId, cancellationToken);
    }

    /// <summary>Stores an observation made elsewhere (the background re-sweep), merging with whatever other instances stored.</summary>
    public async Task<LocatorDocument?> StoreAsync(string nhsNumber, LocatorObservation seen, string correlationId, CancellationToken cancellationToken)
    {
        try
        {
            using var bounded = Bounded(cancellationToken);
            return await store.UpdateAsync(store.NameOf(nhsNumber), current =>
            {
                // Nobody holds the patient and the locator never knew them: there is nothing worth a document.
                if (current is null && seen.Held.Count == 0 && seen.NamedAsGp.Count == 0)
                {
                    return null;
                }

                var (next, changed) = LocatorLearning.Apply(current, nhsNumber, seen, options.Value.StaleAfter);
                return changed ? next : null;
            }, bounded.Token);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            Log.NotStored(logger, correlationId, ex);
            return null;
        }
    }

    /// <summary>
    /// The caller's token, cancelled also after <see cref="LocatorOptions.StorageTimeout"/>, as the demographics service
    /// bounds its calls. The catches above test the caller's own token, so a time-out is handled as storage failing, and
    /// a caller going away is not.
    /// </summary>
    private CancellationTokenSource Bounded(CancellationToken cancellationToken)
    {
        var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(options.Value.StorageTimeout);
        return bounded;
    }

    /// <summary>
    /// What the Bundle's OperationOutcome says about how the sources were chosen, so a clinician knows whether an
    /// organisation that has never seen this patient might be missing. Null when the locator is off.
    /// </summary>
    public static string? Notice(SourcePlan plan) => plan.Selection switch
    {
        SourceSelection.Locator =>
            $"The record locator chose which organisations to ask: {plan.Asked.Count} of the {plan.Granted} sharing records with you (those known to hold this patient's record, those asked about every patient, and any not yet asked about this patient). "
            + (plan.LastSweep is { } swept
                ? $"Every organisation was last asked about this patient on {UkTimeText(swept)}, so one that has first seen the patient since then may not be included."
                : "Not every organisation has been asked about this patient yet, so one that holds a record but has not been found may not be included.")
            + " Ask again with sweep=true to ask every organisation.",
        SourceSelection.Sweep => $"Every organisation sharing records with you ({plan.Granted}) was asked, as a full sweep was requested; the record locator has been refreshed for this patient.",
        SourceSelection.FirstRead => $"The record locator knew no organisation holding this patient's record, so every organisation sharing records with you ({plan.Granted}) was asked; it now knows which hold it.",
        SourceSelection.LocatorThenSweep => $"None of the organisations the record locator knows to hold this patient's record returned it, so every organisation sharing records with you ({plan.Granted}) was asked.",
        SourceSelection.LocatorUnavailable => $"The record locator could not be read, so every organisation sharing records with you ({plan.Granted}) was asked.",
        _ => null,
    };

    private static string UkTimeText(DateTimeOffset instant) =>
        TimeZoneInfo.ConvertTime(instant, UkTime).ToString("d MMMM yyyy 'at' HH:mm", CultureInfo.InvariantCulture) + " (UK time)";

    private static TimeZoneInfo FindUkTime()
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById("Europe/London");
        }
        catch (TimeZoneNotFoundException)
        {
            return TimeZoneInfo.Utc;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 220, Level = LogLevel.Warning, Message = "Record locator could not be read; asking every source (correlation {CorrelationId})")]
        public static partial void Unreadable(ILogger logger, string correlationId, Exception exception);

        [LoggerMessage(EventId = 221, Level = LogLevel.Warning, Message = "Record locator could not store what a read learned (correlation {CorrelationId})")]
        public static partial void NotStored(ILogger logger, string correlationId, Exception exception);
    }
}
