using System.Globalization;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// One NDJSON log blob: <c>yyyy/MM/dd/{instance}-{HH}[-{part}].ndjson</c>. Part 0 (no suffix) is the first blob an
/// instance writes in an hour; later parts (three digits or more) follow a restart, a failed append or a full blob.
/// </summary>
internal readonly record struct AuditLogBlob(string Name, DateOnly Day, int Hour, string Instance, int Part) : IComparable<AuditLogBlob>
{
    public int CompareTo(AuditLogBlob other)
    {
        var byDay = Day.CompareTo(other.Day);
        if (byDay != 0)
        {
            return byDay;
        }

        var byHour = Hour.CompareTo(other.Hour);
        if (byHour != 0)
        {
            return byHour;
        }

        var byInstance = string.CompareOrdinal(Instance, other.Instance);
        return byInstance != 0 ? byInstance : Part.CompareTo(other.Part);
    }
}

/// <summary>Where everything lives in the Audit container.</summary>
internal static class AuditBlobNames
{
    public const string LogExtension = ".ndjson";
    private const string ClaimPrefix = "claims/";
    private const string ClaimExtension = ".json";
    private const string RollupPrefix = "rollups/";

    /// <summary>The key the roll-ups' pseudonyms are made with, when none is configured.</summary>
    public const string PseudonymKey = "keys/pseudonym-key.json";

    public static string DayFolder(DateOnly day) => day.ToString("yyyy'/'MM'/'dd'/'", CultureInfo.InvariantCulture);

    public static string Log(DateOnly day, int hour, string instance, int part) =>
        DayFolder(day) + Stem(instance, hour, part) + LogExtension;

    /// <summary>
    /// The marker an instance creates (create-only) before writing a log blob: exactly one writer wins each name, so a
    /// restarted instance, or two sharing an id by mistake, never append to one chain.
    /// </summary>
    public static string Claim(AuditLogBlob blob) => ClaimPrefix + DayFolder(blob.Day) + Stem(blob.Instance, blob.Hour, blob.Part) + ClaimExtension;

    /// <summary>The prefix under which an instance's claims for an hour are listed (it may match other instances; parse to be sure).</summary>
    public static string ClaimsOf(DateOnly day, int hour, string instance) =>
        ClaimPrefix + DayFolder(day) + instance + "-" + hour.ToString("00", CultureInfo.InvariantCulture);

    public static string Rollup(DateOnly day) => RollupPrefix + day.ToString("yyyy'/'MM'/'dd", CultureInfo.InvariantCulture) + ".json";

    /// <summary>A sealed month's roll-up (the union of its days'), beside the days' but never mistaken for one.</summary>
    public static string MonthRollup(DateOnly month) => RollupPrefix + "months/" + month.ToString("yyyy'-'MM", CultureInfo.InvariantCulture) + ".json";

    /// <summary>
    /// Rewritten whenever a stored roll-up is written again: while its ETag stands, months an instance holds in memory are
    /// still what storage holds, and one small read per report says so.
    /// </summary>
    public const string RollupsChanged = RollupPrefix + "changed.json";

    public static bool TryParseLog(string name, out AuditLogBlob blob) => TryParse(name, LogExtension, name, out blob);

    public static bool TryParseClaim(string name, out AuditLogBlob blob)
    {
        blob = default;
        return name.StartsWith(ClaimPrefix, StringComparison.Ordinal)
            && name.EndsWith(ClaimExtension, StringComparison.Ordinal)
            && TryParse(name[ClaimPrefix.Length..^ClaimExtension.Length] + LogExtension, LogExtension, null, out blob);
    }

    private static string Stem(string instance, int hour, int part) =>
        instance + "-" + hour.ToString("00", CultureInfo.InvariantCulture) + (part == 0 ? "" : "-" + part.ToString("000", CultureInfo.InvariantCulture));

    /// <summary>
    /// Reads a name from the right: an optional part of three or more digits, then exactly two hour digits, then the
    /// instance. Hours have two digits and parts at least three, so no two (instance, hour, part) share a name.
    /// </summary>
    private static bool TryParse(string name, string extension, string? logName, out AuditLogBlob blob)
    {
        blob = default;
        if (!name.EndsWith(extension, StringComparison.Ordinal) || name.Length < 11 + extension.Length)
        {
            return false;
        }

        if (!DateOnly.TryParseExact(name[..10], "yyyy'/'MM'/'dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) || name[10] != '/')
        {
            return false;
        }

        var stem = name[11..^extension.Length];
        var part = 0;
        var lastDash = stem.LastIndexOf('-');
        if (lastDash > 0 && stem.Length - lastDash - 1 >= 3 && IsDigits(stem.AsSpan(lastDash + 1)))
        {
            if (!int.TryParse(stem.AsSpan(lastDash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out part) || part == 0)
            {
                return false;
            }

            stem = stem[..lastDash];
        }

        if (stem.Length < 4 || stem[^3] != '-' || !IsDigits(stem.AsSpan(stem.Length - 2)))
        {
            return false;
        }

        var hour = int.Parse(stem.AsSpan(stem.Length - 2), NumberStyles.None, CultureInfo.InvariantCulture);
        var instance = stem[..^3];
        if (hour > 23 || instance.Length == 0)
        {
            return false;
        }

        blob = new AuditLogBlob(logName ?? Log(day, hour, instance, part), day, hour, instance, part);
        return true;
    }

    private static bool IsDigits(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return text.Length > 0;
    }
}
