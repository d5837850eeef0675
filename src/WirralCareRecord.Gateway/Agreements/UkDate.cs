namespace WirralCareRecord.Gateway.Agreements;

/// <summary>Agreements run by the calendar in England, not UTC: an agreement expiring on a date ends at midnight UK time.</summary>
public static class UkDate
{
    private static readonly TimeZoneInfo London = FindLondon();

    public static DateOnly Today(TimeProvider time) => On(time.GetUtcNow());

    /// <summary>The calendar date in England at <paramref name="instant"/>.</summary>
    public static DateOnly On(DateTimeOffset instant) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, London).DateTime);

    private static TimeZoneInfo FindLondon()
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById("Europe/London");
        }
        catch (TimeZoneNotFoundException)
        {
            // Minimal containers may lack tzdata; UTC is at most an hour out, and only around midnight.
            return TimeZoneInfo.Utc;
        }
    }
}
