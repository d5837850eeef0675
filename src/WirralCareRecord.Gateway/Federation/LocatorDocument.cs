using System.Text.Json;
using System.Text.Json.Serialization;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>
/// One patient's locator entry as stored: which organisations hold a record for the NHS number, and when that was
/// last seen. Organisation codes and timestamps only: no names, no demographics, nothing clinical. The NHS number is
/// kept inside (the blob's name is a keyed hash of it) because the background re-sweep must know whom to ask about.
/// </summary>
public sealed record LocatorDocument
{
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string NhsNumber { get; init; } = "";

    /// <summary>When every source was last asked (a first read, a sweep a clinician asked for, or a background re-sweep).</summary>
    public DateTimeOffset? LastSweep { get; init; }

    /// <summary>Set by the instance that is re-sweeping this patient in the background, so other instances leave it alone.</summary>
    public DateTimeOffset? SweepClaimedAt { get; init; }

    /// <summary>When the demographics service was last asked for the registered practice.</summary>
    public DateTimeOffset? DemographicsCheckedAt { get; init; }

    public IReadOnlyList<LocatorHolder> Holders { get; init; } = [];

    /// <summary>
    /// Organisations that said they do not know the patient. Kept (a few bytes each) so that a source never asked about
    /// the patient, such as a practice onboarded since, can be told apart and asked once.
    /// </summary>
    public IReadOnlyList<LocatorDecline> Declined { get; init; } = [];

    public LocatorHolder? Holder(string odsCode) =>
        Holders.FirstOrDefault(h => string.Equals(h.OdsCode, odsCode, StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether the organisation has ever answered about this patient, or been named as their GP.</summary>
    public bool Knows(string odsCode) =>
        Holder(odsCode) is not null || Declined.Any(d => string.Equals(d.OdsCode, odsCode, StringComparison.OrdinalIgnoreCase));

    public BinaryData ToBinary() => BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(this, JsonOptions));

    public static LocatorDocument Parse(BinaryData content) =>
        JsonSerializer.Deserialize<LocatorDocument>(content.ToMemory().Span, JsonOptions)
            ?? throw new InvalidDataException("A locator document is empty.");
}

/// <summary>An organisation known to hold a record for the patient.</summary>
/// <param name="LastSeen">When it last returned (or held with different demographics, or twice) a patient with this NHS number.</param>
/// <param name="LastAsked">When it last answered a question about this patient.</param>
/// <param name="NamedAsGp">When a source or the demographics service last named it as the registered practice.</param>
public sealed record LocatorHolder(string OdsCode, DateTimeOffset? LastSeen = null, DateTimeOffset? LastAsked = null, DateTimeOffset? NamedAsGp = null);

/// <summary>An organisation that said it holds no patient with this NHS number.</summary>
/// <param name="WhileNamedAsGp">
/// It said so while a source named it as the patient's GP: that naming is then stale, and does not bring it back. A
/// practice named only after it said no (the patient has just registered there) is asked again.
/// </param>
public sealed record LocatorDecline(string OdsCode, DateTimeOffset At, bool WhileNamedAsGp = false);

/// <summary>What one read or sweep taught the locator about one patient.</summary>
/// <param name="Held">Sources that hold a patient with the NHS number (returned, demographics differ, or more than one).</param>
/// <param name="NotHeld">Sources that answered that they hold no such patient.</param>
/// <param name="Answered">Every source that gave an answer (held or not); failures teach nothing.</param>
/// <param name="NamedAsGp">Practices named as the registered GP, by the sources' own Patients or the demographics service.</param>
/// <param name="FullSweep">Every source was asked.</param>
/// <param name="DemographicsChecked">The demographics service answered.</param>
public sealed record LocatorObservation(
    DateTimeOffset At,
    IReadOnlyCollection<string> Held,
    IReadOnlyCollection<string> NotHeld,
    IReadOnlyCollection<string> Answered,
    IReadOnlyCollection<string> NamedAsGp,
    bool FullSweep,
    bool DemographicsChecked);

/// <summary>The locator's rules for learning, kept pure so they can be tested without storage.</summary>
public static class LocatorLearning
{
    /// <summary>
    /// Timestamps of organisations already known are rewritten at most this often, so a warm read of a well-known patient
    /// costs one blob read and no write.
    /// </summary>
    public static readonly TimeSpan TouchAfter = TimeSpan.FromHours(1);

    /// <summary>
    /// The entry after <paramref name="seen"/>, and whether it differs enough to be worth storing: membership changed,
    /// a demographics check happened, or a timestamp (the last sweep's among them) is older than <see cref="TouchAfter"/>.
    /// </summary>
    /// <param name="declineLifetime">How long an organisation that said no, while named as the GP, stays out when a source still names it so.</param>
    public static (LocatorDocument Document, bool Changed) Apply(LocatorDocument? current, string nhsNumber, LocatorObservation seen, TimeSpan declineLifetime)
    {
        var changed = current is null;
        var document = current ?? new LocatorDocument { NhsNumber = nhsNumber };
        var holders = document.Holders.ToDictionary(h => h.OdsCode, StringComparer.OrdinalIgnoreCase);
        var declined = document.Declined.ToDictionary(d => d.OdsCode, StringComparer.OrdinalIgnoreCase);

        foreach (var ods in seen.NotHeld)
        {
            // The source is the authority on its own records: once it says it does not know the patient, it is dropped.
            var named = (holders.TryGetValue(ods, out var was) && was.NamedAsGp is not null) || seen.NamedAsGp.Contains(ods, StringComparer.OrdinalIgnoreCase);
            changed |= holders.Remove(ods);
            changed |= !declined.TryGetValue(ods, out var before) || before.WhileNamedAsGp != named;
            declined[ods] = new LocatorDecline(ods, seen.At, named);
        }

        foreach (var ods in seen.Held)
        {
            declined.Remove(ods);
            var before = holders.GetValueOrDefault(ods);
            changed |= before?.LastSeen is not { } last || seen.At - last >= TouchAfter;
            holders[ods] = (before ?? new LocatorHolder(ods)) with { LastSeen = seen.At };
        }

        foreach (var ods in seen.NamedAsGp)
        {
            if (declined.TryGetValue(ods, out var decline)
                && ((decline.WhileNamedAsGp && seen.At - decline.At < declineLifetime) || seen.NotHeld.Contains(ods, StringComparer.OrdinalIgnoreCase)))
            {
                // Named as the GP, yet it said it does not know the patient: asking it on every read would be a loop.
                continue;
            }

            changed |= declined.Remove(ods);
            var before = holders.GetValueOrDefault(ods);
            changed |= before?.NamedAsGp is not { } last || seen.At - last >= TouchAfter;
            holders[ods] = (before ?? new LocatorHolder(ods)) with { NamedAsGp = seen.At };
        }

        foreach (var ods in seen.Answered)
        {
            if (holders.TryGetValue(ods, out var holder))
            {
                changed |= holder.LastAsked is not { } last || seen.At - last >= TouchAfter;
                holders[ods] = holder with { LastAsked = seen.At };
            }
        }

        // A read that asks everyone (every source holds the patient, say) is a sweep too; recording it more than hourly
        // would write on every read. The stored time then understates how recently everyone was asked, the safe side.
        changed |= seen.FullSweep && (document.LastSweep is not { } swept || seen.At - swept >= TouchAfter || document.SweepClaimedAt is not null);
        changed |= seen.DemographicsChecked;
        return (document with
        {
            NhsNumber = nhsNumber,
            Holders = [.. holders.Values.OrderBy(h => h.OdsCode, StringComparer.Ordinal)],
            Declined = [.. declined.Values.OrderBy(d => d.OdsCode, StringComparer.Ordinal)],
            LastSweep = seen.FullSweep ? seen.At : document.LastSweep,
            SweepClaimedAt = seen.FullSweep ? null : document.SweepClaimedAt,
            DemographicsCheckedAt = seen.DemographicsChecked ? seen.At : document.DemographicsCheckedAt,
        }, changed);
    }
}
