using System.Globalization;
using System.Text.Json.Nodes;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Storage;

namespace WirralCareRecord.Gateway.Tests.Audit;

/// <summary>
/// Sealed months' roll-ups: the union of their days', read by the report instead of 30 days each. The rig's clock is
/// 2026-11-23, so September and October 2026 are sealed months and November is not.
/// </summary>
public sealed class MonthRollupTests : IDisposable
{
    private static readonly DateOnly First = new(2026, 9, 1);
    private static readonly DateOnly Last = new(2026, 10, 31);
    private static readonly DateOnly LateDay = new(2026, 10, 15);
    private static readonly string October = AuditBlobNames.MonthRollup(new DateOnly(2026, 10, 1));
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("wcr-months-");

    [Fact]
    public async Task MonthRollup_SameEventsAsTheDays_GivesTheSameFigures()
    {
        var store = new LocalFolderBlobStore(_folder.FullName);
        await using var rig = Rig(store);
        var accesses = await WriteLogAsync(rig);

        var byMonth = await CsvAsync(rig, First, Last, ReportGrouping.Month);
        var stored = await store.ReadAsync(October, default);
        var fromMonths = await CsvAsync(rig, First, Last, ReportGrouping.Month);
        var fromRawLog = await CsvAsync(rig, First, Last, ReportGrouping.Month, fromRawLog: true);
        // Weeks cut across months, so each is read from its days' roll-ups.
        var byWeekTotal = Row(await CsvAsync(rig, First, Last, ReportGrouping.Week), "total", "all");

        Assert.NotNull(stored);
        Assert.Equal(fromRawLog, byMonth);
        Assert.Equal(fromRawLog, fromMonths);
        Assert.Equal(Row(fromRawLog, "total", "all")[6..], byWeekTotal[6..]);
        var october = Row(fromMonths, "2026-10", "all");
        var expected = ExpectedFigures.Of(accesses.Where(a => a.Recorded.Month == 10));
        Assert.Equal(
            (expected.Retrievals, expected.DistinctStaff, expected.DistinctPatients, expected.Refusals, expected.BreakGlass),
            (Int(october, 6), Int(october, 7), Int(october, 11), Int(october, 18), Int(october, 19)));
    }

    [Fact]
    public async Task MonthRollup_LateDayRebuilt_MonthFiguresChangeOnEveryInstance()
    {
        var store = new LocalFolderBlobStore(_folder.FullName);
        await using var rig = Rig(store);
        await using var other = Rig(store, instance: "gw-2");
        var accesses = await WriteLogAsync(rig);
        var before = Row(await CsvAsync(rig, First, Last, ReportGrouping.Month), "2026-10", "all");
        Assert.Equal(before, Row(await CsvAsync(other, First, Last, ReportGrouping.Month), "2026-10", "all"));

        // A write that reached the log after the day was sealed and rolled up: a new member of staff and a new patient.
        var late = new GeneratedAccess(
            new DateTimeOffset(LateDay.ToDateTime(new TimeOnly(23, 59)), TimeSpan.Zero), AccessKind.FederatedRead, 200, "late-user", "N85001",
            "9001089011", false, [("RBL", "returned"), ("N85001", "returned")]);
        await rig.Log.AppendAsync(GeneratedLog.ToEntry(late, 90_000), default);
        var sealedStill = Row(await CsvAsync(other, First, Last, ReportGrouping.Month), "2026-10", "all");
        await rig.Rollups.RebuildAsync(LateDay, default);
        var after = Row(await CsvAsync(other, First, Last, ReportGrouping.Month), "2026-10", "all");

        Assert.Equal(before, sealedStill);
        var expected = ExpectedFigures.Of(accesses.Where(a => a.Recorded.Month == 10).Append(late));
        Assert.Equal(
            (expected.Retrievals, expected.DistinctStaff, expected.DistinctPatients, expected.MultiSetting),
            (Int(after, 6), Int(after, 7), Int(after, 11), Int(after, 14)));
        Assert.Equal((Int(before, 6) + 1, Int(before, 7) + 1, Int(before, 11) + 1), (Int(after, 6), Int(after, 7), Int(after, 11)));
        Assert.Equal(
            await CsvAsync(rig, First, Last, ReportGrouping.Month, fromRawLog: true),
            await CsvAsync(other, First, Last, ReportGrouping.Month));
    }

    [Fact]
    public async Task MonthRollup_StoredByOlderRules_IsMadeAgainFromTheDays()
    {
        var store = new LocalFolderBlobStore(_folder.FullName);
        await using var rig = Rig(store);
        await WriteLogAsync(rig);
        var expected = await CsvAsync(rig, First, Last, ReportGrouping.Month, fromRawLog: true);
        await CsvAsync(rig, First, Last, ReportGrouping.Month);

        // The same month as an older version would have stored it, with figures these rules would not give.
        var document = await DocumentAsync(store, October);
        document["format"] = MonthRollup.CurrentFormat - 1;
        foreach (var (_, organisation) in document["organisations"]!.AsObject())
        {
            organisation!["retrievals"] = 99_999;
        }

        await store.WriteAsync(October, BinaryData.FromString(document.ToJsonString()), await store.GetETagAsync(October, default), "application/json", default);
        // A new version is a new process: nothing it holds in memory yet.
        await using var upgraded = Rig(store);
        var afterFormatChange = await CsvAsync(upgraded, First, Last, ReportGrouping.Month);

        Assert.Equal(expected, afterFormatChange);
        Assert.Equal(MonthRollup.CurrentFormat, (int)(await DocumentAsync(store, October))["format"]!);
    }

    [Fact]
    public async Task MonthRollup_PseudonymKeyChanged_IsMadeAgainWithTheNewKey()
    {
        var store = new LocalFolderBlobStore(_folder.FullName);
        string expected;
        await using (var rig = Rig(store, key: Key(1)))
        {
            await WriteLogAsync(rig);
            expected = await CsvAsync(rig, First, Last, ReportGrouping.Month, fromRawLog: true);
            await CsvAsync(rig, First, Last, ReportGrouping.Month);
        }

        var oldKeyId = (string)(await DocumentAsync(store, October))["keyId"]!;
        await using var rekeyed = Rig(store, key: Key(2));
        // Half of September from its days and all of October from its month: pseudonyms made with two keys in one union
        // would count the same people twice.
        var mixed = Row(await CsvAsync(rekeyed, new DateOnly(2026, 9, 16), Last, ReportGrouping.Month), "total", "all");
        var months = await CsvAsync(rekeyed, First, Last, ReportGrouping.Month);

        Assert.Equal(expected, months);
        Assert.NotEqual(oldKeyId, (string)(await DocumentAsync(store, October))["keyId"]!);
        Assert.Equal(Row(await CsvAsync(rekeyed, new DateOnly(2026, 9, 16), Last, ReportGrouping.Month, fromRawLog: true), "total", "all"), mixed);
    }

    [Fact]
    public async Task MonthRollup_StoredDocument_HoldsNoNhsNumberOrUserId()
    {
        var store = new LocalFolderBlobStore(_folder.FullName);
        await using var rig = Rig(store);
        var accesses = await WriteLogAsync(rig);

        await CsvAsync(rig, First, Last, ReportGrouping.Month);
        var stored = (await store.ReadAsync(October, default))!.Content.ToString();

        Assert.DoesNotContain(accesses, a => a.Nhs is { } nhs && stored.Contains(nhs, StringComparison.Ordinal));
        Assert.DoesNotContain(accesses, a => a.User is { } user && stored.Contains(user, StringComparison.Ordinal));
    }

    public void Dispose() => _folder.Delete(recursive: true);

    private static AuditRig Rig(IBlobStore store, string instance = "gw-1", string? key = null) =>
        new(store, instance, registry: new FixedRegistry(GeneratedLog.Organisations), pseudonymKey: key);

    private static string Key(byte fill) => Convert.ToBase64String(Enumerable.Repeat(fill, 32).ToArray());

    private static async Task<List<GeneratedAccess>> WriteLogAsync(AuditRig rig)
    {
        var accesses = GeneratedLog.Generate(First, Last.DayNumber - First.DayNumber + 1, seed: 11);
        var n = 0;
        foreach (var day in accesses.GroupBy(a => a.Recorded.Date))
        {
            await Task.WhenAll(day.Select(a => rig.Log.AppendAsync(GeneratedLog.ToEntry(a, n++), default)));
        }

        return accesses;
    }

    private static async Task<string> CsvAsync(AuditRig rig, DateOnly start, DateOnly end, ReportGrouping by, bool fromRawLog = false) =>
        StoryOnceOutput.ToCsv(await rig.Reports.RunAsync(start, end, by, fromRawLog, default));

    private static string[] Row(string csv, string period, string scope) =>
        csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(r => r.Split(',')).Single(r => r[0] == period && r[3] == scope);

    private static int Int(string[] row, int column) => int.Parse(row[column], CultureInfo.InvariantCulture);

    private static async Task<JsonObject> DocumentAsync(LocalFolderBlobStore store, string name) =>
        JsonNode.Parse((await store.ReadAsync(name, default))!.Content.ToString())!.AsObject();
}
