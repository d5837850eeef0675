namespace WirralCareRecord.Gateway.Agreements;

/// <summary>Agreements run by the calendar in England, not UTC: an agreement expiring on a date ends at midnight UK time.</summary>
public static class UkDate
{
    private static readonly TimeZoneInfo London = FindLondon();

    public static DateOnly Today(TimeProvider time) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(time.GetUtcNow(), London).DateTime);

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
