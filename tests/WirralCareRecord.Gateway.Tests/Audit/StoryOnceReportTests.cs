using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Hl7.Fhir.Model;
using Microsoft.Extensions.DependencyInjection;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;
using Xunit.Abstractions;

namespace WirralCareRecord.Gateway.Tests.Audit;

public sealed class StoryOnceReportTests(ITestOutputHelper output) : IDisposable
{
    private const string Measure = "https://fhir.wirralcarerecord.nhs.uk/Measure/wcr-story-once";
    private static readonly DateOnly First = new(2025, 1, 20);
    private static readonly DateOnly Last = new(2025, 3, 10);
    private readonly TestIssuer _issuer = new();

    [Fact]
    public async Task StoryOnceReport_GeneratedLog_GivesTheFiguresWorkedOutFromWhatWasGenerated()
    {
        var (host, accesses) = await HostWithLogAsync();
        using var _ = host;
        var auditor = host.CreateClient(_issuer.CreateToken(role: "Auditor"));

        var response = await auditor.GetAsync($"/audit/$story-once-report?start={First:yyyy-MM-dd}&end={Last:yyyy-MM-dd}&by=month");

        var report = await FhirAssert.ReadAsync<MeasureReport>(response, HttpStatusCode.OK);
        Assert.Equal((Measure, MeasureReport.MeasureReportType.Summary), (report.Measure, report.Type));
        Assert.Equal(("2025-01-20", "2025-03-10"), (report.Period.Start, report.Period.End));
        AssertFigures(ExpectedFigures.Of(accesses), report, null);
        foreach (var (label, month) in new[] { ("2025-01", 1), ("2025-02", 2), ("2025-03", 3) })
        {
            AssertFigures(ExpectedFigures.Of(accesses.Where(a => a.Recorded.Month == month)), report, ["period", label]);
            foreach (var organisation in GeneratedLog.Organisations)
            {
                AssertFigures(
                    ExpectedFigures.Of(accesses.Where(a => a.Recorded.Month == month && a.Ods == organisation.OdsCode)),
                    report,
                    ["period-organisation", label, organisation.OdsCode]);
            }
        }

        foreach (var kind in new[] { OrganisationKind.GpPractice, OrganisationKind.AcuteTrust })
        {
            var members = GeneratedLog.Organisations.Where(o => o.Kind == kind).Select(o => o.OdsCode).ToHashSet();
            AssertFigures(ExpectedFigures.Of(accesses.Where(a => a.Ods is not null && members.Contains(a.Ods))), report, ["setting", kind.ToString()]);
        }
    }

    [Fact]
    public async Task StoryOnceReport_StaffProportion_UsesTheRegistryStaffCountsWhereKnown()
    {
        var (host, accesses) = await HostWithLogAsync();
        using var _ = host;
        var auditor = host.CreateClient(_issuer.CreateToken(role: "Auditor"));

        var report = await FhirAssert.ReadAsync<MeasureReport>(
            await auditor.GetAsync($"/audit/$story-once-report?start={First:yyyy-MM-dd}&end={Last:yyyy-MM-dd}"),
            HttpStatusCode.OK);

        var proportion = report.Group.Single(g => g.Code.Coding[0].Code == "staff-proportion");
        var counted = GeneratedLog.Organisations.Where(o => o.StaffCount is not null).ToList();
        var numerator = counted.Sum(o => DistinctRetrievingStaff(accesses, o.OdsCode));
        var denominator = counted.Sum(o => o.StaffCount!.Value);
        Assert.Equal((numerator, denominator), (Population(proportion.Population, "numerator"), Population(proportion.Population, "denominator")));
        Assert.Equal(Math.Round((decimal)numerator / denominator, 4), proportion.MeasureScore.Value);
        var byOrganisation = proportion.Stratifier.Single(s => s.Code[0].Text == "organisation");
        var rbl = byOrganisation.Stratum.Single(s => s.Value.Coding[0].Code == "RBL");
        Assert.Equal((DistinctRetrievingStaff(accesses, "RBL"), 60), (Population(rbl.Population, "numerator"), Population(rbl.Population, "denominator")));
        // No staff count for N85002: no denominator and no score, rather than a made-up one.
        var unknown = byOrganisation.Stratum.Single(s => s.Value.Coding[0].Code == "N85002");
        Assert.Null(unknown.MeasureScore);
        Assert.DoesNotContain(unknown.Population, p => p.Code.Coding[0].Code == "denominator");
        // N85003 has staff but used nothing: it is reported, at nought.
        var idle = byOrganisation.Stratum.Single(s => s.Value.Coding[0].Code == "N85003");
        Assert.Equal(0m, idle.MeasureScore.Value);
    }

    [Fact]
    public async Task StoryOnceReport_FromRollupsAndFromTheRawLog_AgreeAndTheRollupsAreStored()
    {
        var (host, _) = await HostWithLogAsync();
        using var __ = host;
        var auditor = host.CreateClient(_issuer.CreateToken(role: "Auditor"));
        var query = $"/audit/$story-once-report?start={First:yyyy-MM-dd}&end={Last:yyyy-MM-dd}&by=week";

        var fromRaw = await FhirAssert.ReadAsync<MeasureReport>(await auditor.GetAsync(query + "&from-raw-log=true"), HttpStatusCode.OK);
        Assert.False(File.Exists(Path.Combine(host.AuditFolder, "rollups", "2025", "02", "14.json")));
        var built = await FhirAssert.ReadAsync<MeasureReport>(await auditor.GetAsync(query), HttpStatusCode.OK);
        Assert.True(File.Exists(Path.Combine(host.AuditFolder, "rollups", "2025", "02", "14.json")));
        var fromRollups = await FhirAssert.ReadAsync<MeasureReport>(await auditor.GetAsync(query), HttpStatusCode.OK);

        Assert.Equal(Groups(fromRaw), Groups(built));
        Assert.Equal(Groups(fromRaw), Groups(fromRollups));
        Assert.Contains(fromRaw.Group.Single(g => g.Code.Coding[0].Code == "retrievals").Stratifier.Single(s => s.Code[0].Text == "period").Stratum,
            s => s.Value.Text == "2025-W08");
    }

    [Fact]
    public async Task StoryOnceReport_Csv_HasARowPerPeriodAndScopeWithTheSameFigures()
    {
        var (host, accesses) = await HostWithLogAsync();
        using var _ = host;
        var auditor = host.CreateClient(_issuer.CreateToken(role: "Auditor"));

        var response = await auditor.GetAsync($"/audit/$story-once-report?start={First:yyyy-MM-dd}&end={Last:yyyy-MM-dd}&by=month&_format=csv");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        // RFC 4180: every record ends CRLF.
        var csv = await response.Content.ReadAsStringAsync();
        Assert.EndsWith("\r\n", csv, StringComparison.Ordinal);
        var rows = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Select(r => r.Split(',')).ToList();
        var header = rows[0].ToList();
        var total = rows.Single(r => r[0] == "total" && r[3] == "all");
        var expected = ExpectedFigures.Of(accesses);
        int Column(string[] row, string name) => int.Parse(row[header.IndexOf(name)], CultureInfo.InvariantCulture);
        Assert.Equal(
            (expected.Retrievals, expected.DistinctStaff, expected.DistinctPatients, expected.SettingsReturned, expected.MultiSetting, expected.NotFound, expected.Refusals, expected.BreakGlass),
            (Column(total, "retrievals"), Column(total, "distinct_staff"), Column(total, "distinct_patients"), Column(total, "settings_returned"),
             Column(total, "multi_setting_retrievals"), Column(total, "not_found"), Column(total, "refusals"), Column(total, "break_glass")));
        Assert.Equal("AcuteTrust:1;CommunityTrust:1;GpPractice:1", total[header.IndexOf("settings_returned_by_kind")]);
        var february = rows.Single(r => r[0] == "2025-02" && r[3] == "organisation" && r[4] == "RBL");
        Assert.Equal(ExpectedFigures.Of(accesses.Where(a => a.Recorded.Month == 2 && a.Ods == "RBL")).Retrievals, Column(february, "retrievals"));
        Assert.Equal("AcuteTrust", february[header.IndexOf("setting")]);
        // Every organisation with a staff count or with use has a row in every month.
        Assert.Equal(3 * GeneratedLog.Organisations.Count, rows.Count(r => r[0] is "2025-01" or "2025-02" or "2025-03" && r[3] == "organisation"));
    }

    [Fact]
    public async Task StoryOnceReport_AYear_AnswersFromRollups()
    {
        var (host, accesses) = await HostWithLogAsync();
        using var _ = host;
        var auditor = host.CreateClient(_issuer.CreateToken(role: "Auditor"));
        var year = $"/audit/$story-once-report?start={Last.AddDays(-364):yyyy-MM-dd}&end={Last:yyyy-MM-dd}&by=month";

        var clock = Stopwatch.StartNew();
        var first = await FhirAssert.ReadAsync<MeasureReport>(await auditor.GetAsync(year), HttpStatusCode.OK);
        var building = clock.Elapsed;
        clock.Restart();
        var second = await FhirAssert.ReadAsync<MeasureReport>(await auditor.GetAsync(year), HttpStatusCode.OK);
        output.WriteLine($"Year report over {accesses.Count} events: {building.TotalMilliseconds:0} ms building roll-ups, {clock.Elapsed.TotalMilliseconds:0} ms from roll-ups");

        Assert.Equal(13, first.Group[0].Stratifier.Single(s => s.Code[0].Text == "period").Stratum.Count);
        Assert.Equal(ExpectedFigures.Of(accesses).Retrievals, second.Group.Single(g => g.Code.Coding[0].Code == "retrievals").Population[0].Count);
        Assert.Equal(Groups(first), Groups(second));
    }

    [Fact]
    public async Task StoryOnceReport_Groups_AreTheMeasuresDefinedInConformance()
    {
        var (host, _) = await HostWithLogAsync(days: 3);
        using var _ = host;
        var measure = Assert.IsType<Hl7.Fhir.Model.Measure>(JsonSerializer.Deserialize<Resource>(
            File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "conformance", "Measure-wcr-story-once.json")), FhirJson.Strict));

        var report = await FhirAssert.ReadAsync<MeasureReport>(
            await host.CreateClient(_issuer.CreateToken(role: "Auditor")).GetAsync($"/audit/$story-once-report?start={First:yyyy-MM-dd}&end={First.AddDays(2):yyyy-MM-dd}&by=day"),
            HttpStatusCode.OK);

        Assert.Equal(measure.Url, report.Measure);
        Assert.Equal(measure.Group.Select(g => g.ElementId), report.Group.Select(g => g.Code.Coding.Single().Code));
        foreach (var (defined, reported) in measure.Group.Zip(report.Group))
        {
            Assert.Equal(defined.Code.Coding.Single().Code, reported.Code.Coding.Single().Code);
            Assert.Equal(defined.Population.Select(p => p.Code.Coding.Single().Code).Order(), reported.Population.Select(p => p.Code.Coding.Single().Code).Order());
            Assert.Equal(defined.Stratifier.Select(st => st.Code.Text), reported.Stratifier.Select(st => st.Code.Single().Text));
        }
    }

    [Fact]
    public async Task StoryOnceReport_BadRequests_Return400AndClinicians403()
    {
        var (host, _) = await HostWithLogAsync(days: 1);
        using var _ = host;
        var auditor = host.CreateClient(_issuer.CreateToken(role: "Auditor"));

        var missing = await FhirAssert.OutcomeAsync(await auditor.GetAsync("/audit/$story-once-report?start=2025-01-01"), HttpStatusCode.BadRequest);
        var grouping = await FhirAssert.OutcomeAsync(await auditor.GetAsync("/audit/$story-once-report?start=2025-01-01&end=2025-01-31&by=fortnight"), HttpStatusCode.BadRequest);
        await FhirAssert.OutcomeAsync(await auditor.GetAsync("/audit/$story-once-report?start=2020-01-01&end=2025-01-31"), HttpStatusCode.BadRequest);
        await FhirAssert.OutcomeAsync(await host.CreateClient(_issuer.CreateToken()).GetAsync("/audit/$story-once-report?start=2025-01-01&end=2025-01-31"), HttpStatusCode.Forbidden);

        Assert.Contains("'start' and 'end'", missing.Text(), StringComparison.Ordinal);
        Assert.Contains("day, week or month", grouping.Text(), StringComparison.Ordinal);
    }

    public void Dispose() => _issuer.Dispose();

    private async Task<(GatewayHost Host, List<GeneratedAccess> Accesses)> HostWithLogAsync(int? days = null)
    {
        var host = new GatewayHost(_issuer, [], services: services => services.AddSingleton<IOrganisationRegistry>(new FixedRegistry(GeneratedLog.Organisations)));
        var accesses = GeneratedLog.Generate(First, days ?? Last.DayNumber - First.DayNumber + 1, seed: 5);
        var store = host.Services.GetRequiredService<IAuditStore>();
        var n = 0;
        foreach (var day in accesses.GroupBy(a => a.Recorded.Date))
        {
            await Task.WhenAll(day.Select(a => store.AppendAsync(GeneratedLog.ToEntry(a, n++), default)));
        }

        return (host, accesses);
    }

    private static void AssertFigures(ExpectedFigures expected, MeasureReport report, string[]? stratum)
    {
        int Count(string group)
        {
            var reportGroup = report.Group.Single(g => g.Code.Coding[0].Code == group);
            var populations = stratum is null
                ? reportGroup.Population.Select(p => (p.Code, p.Count))
                : reportGroup.Stratifier.Single(s => s.Code[0].Text == stratum[0]).Stratum
                    .Single(s => (s.Value is null ? s.Component.Select(c => Key(c.Value)) : [Key(s.Value)]).SequenceEqual(stratum[1..]))
                    .Population.Select(p => (p.Code, p.Count));
            return populations.First().Count ?? -1;
        }

        var label = stratum is null ? "total" : string.Join('/', stratum);
        var actual = new ExpectedFigures(
            Count("retrievals"), Count("distinct-staff"), Count("distinct-patients"), Count("settings-returned"), Count("multi-setting"),
            Count("failed-source"), Count("not-found"), Count("refusals"), Count("break-glass"));
        Assert.True(expected == actual, $"{label}: expected {expected}, reported {actual}");
    }

    private static string Key(CodeableConcept value) => value.Coding.FirstOrDefault()?.Code ?? value.Text ?? "";

    private static int? Population(IEnumerable<MeasureReport.PopulationComponent> populations, string code) =>
        populations.SingleOrDefault(p => p.Code.Coding[0].Code == code)?.Count;

    private static int? Population(IEnumerable<MeasureReport.StratifierGroupPopulationComponent> populations, string code) =>
        populations.SingleOrDefault(p => p.Code.Coding[0].Code == code)?.Count;

    private static int DistinctRetrievingStaff(IEnumerable<GeneratedAccess> accesses, string ods) =>
        accesses.Where(a => a.IsFederated && a.Status == 200 && a.Ods == ods).Select(a => a.User).Distinct().Count();

    private static string Groups(MeasureReport report) => JsonSerializer.Serialize(report.Group, FhirJson.Strict);
}
