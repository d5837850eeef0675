using System.Globalization;

namespace WirralCareRecord.Gateway.Pages.Auditing;

/// <summary>Dates typed into the audit forms: YYYY-MM-DD, UTC days as the log keeps them.</summary>
internal static class AuditDates
{
    public static bool TryParse(string? text, out DateOnly day) =>
        DateOnly.TryParseExact(text?.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day);

    public static DateOnly Today(TimeProvider time) => DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);

    public static string Text(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
