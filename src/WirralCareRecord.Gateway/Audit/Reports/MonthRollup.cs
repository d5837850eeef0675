using System.Globalization;
using System.Text.Json;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// A sealed month's story-once figures: the union of its days' roll-ups, stored as JSON under
/// <c>rollups/months/yyyy-MM.json</c> once every day of the month is sealed, so a year by month reads a dozen documents
/// rather than 365. Made only from the day roll-ups (never from the log), so it cannot disagree with them; it holds
/// pseudonyms and ODS codes only, like the days.
/// </summary>
/// <remarks>
/// When a sealed day's roll-up is written again (rebuilt after late writes, or by new rules or a new key) its month's
/// document is overwritten with a stale marker first checked against its ETag, so a month made from the old day at the
/// same moment loses its conditional write and is made again from the days on the next read. The document records the
/// day roll-ups' format and the key, so a change to either rebuilds it too.
/// </remarks>
internal sealed class MonthRollup(DateOnly month, string keyId, RollupFigures figures)
{
    /// <summary>Bumped whenever the month document's shape or meaning changes.</summary>
    public const int CurrentFormat = 1;

    /// <summary>The month's first day.</summary>
    public DateOnly Month { get; } = month;

    public string KeyId { get; } = keyId;

    public RollupFigures Figures { get; } = figures;

    public static DateOnly MonthOf(DateOnly day) => new(day.Year, day.Month, 1);

    public static DateOnly LastDay(DateOnly month) => new(month.Year, month.Month, DateTime.DaysInMonth(month.Year, month.Month));

    public BinaryData ToJson() => BinaryData.FromObjectAsJson(
        new Document(
            CurrentFormat,
            DayRollup.CurrentFormat,
            Label(Month),
            KeyId,
            null,
            Figures.Events,
            Figures.Organisations.ToDictionary(o => o.Key, o => DayRollup.OrganisationDocument.Of(o.Value)),
            new Dictionary<string, OrganisationKind>(Figures.SourceSettings)),
        DayRollup.Json);

    /// <summary>The marker left when a day of the month is rolled up again: the month must be made again from its days.</summary>
    public static BinaryData Stale(DateOnly month, DateOnly changedDay) => BinaryData.FromObjectAsJson(
        new Document(CurrentFormat, DayRollup.CurrentFormat, Label(month), "", changedDay, 0, [], []),
        DayRollup.Json);

    public static bool IsStale(BinaryData json) => JsonSerializer.Deserialize<Document>(json.ToMemory().Span, DayRollup.Json)?.StaleSince is not null;

    /// <summary>A stored month, or null when it is stale, or was made by other rules or another key, and must be made again.</summary>
    public static MonthRollup? FromJson(BinaryData json, string keyId)
    {
        var document = JsonSerializer.Deserialize<Document>(json.ToMemory().Span, DayRollup.Json);
        if (document is null
            || document.Format != CurrentFormat
            || document.DayFormat != DayRollup.CurrentFormat
            || document.KeyId != keyId
            || document.StaleSince is not null
            || !DateOnly.TryParseExact(document.Month + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var month))
        {
            return null;
        }

        return new MonthRollup(
            month,
            document.KeyId,
            new RollupFigures(
                document.Events,
                new SortedDictionary<string, OrganisationFigures>(document.Organisations.ToDictionary(o => o.Key, o => o.Value.ToFigures()), StringComparer.Ordinal),
                new SortedDictionary<string, OrganisationKind>(document.SourceSettings, StringComparer.Ordinal)));
    }

    private static string Label(DateOnly month) => month.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    /// <param name="StaleSince">Set on a stale marker: the day whose roll-up was written again.</param>
    private sealed record Document(
        int Format,
        int DayFormat,
        string Month,
        string KeyId,
        DateOnly? StaleSince,
        int Events,
        Dictionary<string, DayRollup.OrganisationDocument> Organisations,
        Dictionary<string, OrganisationKind> SourceSettings);
}
