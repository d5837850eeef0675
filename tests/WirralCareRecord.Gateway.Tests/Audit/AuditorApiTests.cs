using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Hl7.Fhir.Model;
using Microsoft.Extensions.DependencyInjection;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Storage;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Audit;

/// <summary>
/// What an auditor asks of the log through the API: who saw this person's record and from which organisations, with
/// paging; the log exported; its chains verified; and a source's disclosures, break-glass first.
/// </summary>
public sealed class AuditorApiTests : IDisposable
{
    private const string Shared = "9000000009";
    private const string HospitalOnly = "9000000041";
    private const string Objector = "9000000033";
    private const string Unknown = "9001089011";
    private const string Reason = "Unconscious in A&E, no history available";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);

    public AuditorApiTests()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Shared), ClinicalData.Condition("c1", "gp-1"));
        _gp.WithPatient(FhirSource.NewPatient("gp-3", Objector), ClinicalData.Allergy("a3", "gp-3"));
        _acute.WithPatient(FhirSource.NewPatient("pas-1", Shared), ClinicalData.Encounter("e1", "pas-1"));
        _acute.WithPatient(FhirSource.NewPatient("pas-2", HospitalOnly), ClinicalData.Encounter("e2", "pas-2"));
    }

    [Fact]
    public async Task AuditEventSearch_ByPatient_ShowsWhoSawTheRecordAndFromWhichOrganisations()
    {
        using var host = await HostWithAccessesAsync();

        var response = await Auditor(host).GetAsync($"/audit/AuditEvent?patient={Shared}&date=ge{DateTime.UtcNow.AddDays(-31):yyyy-MM-dd}");

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        var events = bundle.Entry.Select(e => Assert.IsType<AuditEvent>(e.Resource)).ToList();
        // Two combined reads, and rbl-user's read of one item through N85001's route, which names the patient too.
        Assert.Equal(["gp-user", "rbl-user", "rbl-user"], events.Select(User));
        Assert.Equal(["N85001", "RBL", "RBL"], events.Select(Organisation));
        static bool RouteRead(AuditEvent e) => e.Entity.Any(x => x.Role?.Code == "24" && x.Description?.Contains("/sources/N85001/fhir/Condition/c9", StringComparison.Ordinal) == true);
        Assert.All(events.Where(e => !RouteRead(e)), e => Assert.Equal(
            ["N85001 returned", "RBL returned"],
            e.Entity.Where(x => x.Role?.Code == "3").Select(x => $"{x.What.Identifier.Value} {x.Description}").Order()));
        Assert.Equal(["N85001 returned"], events.Single(RouteRead).Entity.Where(x => x.Role?.Code == "3").Select(x => $"{x.What.Identifier.Value} {x.Description}"));
        Assert.Equal(3, bundle.Total);
    }

    [Fact]
    public async Task AuditEventSearch_Filters_ByAgentOrganisationOutcomeSourceAndBreakGlass()
    {
        using var host = await HostWithAccessesAsync();
        var auditor = Auditor(host);

        async Task<List<AuditEvent>> Search(string query) =>
            [.. (await FhirAssert.ReadAsync<Bundle>(await auditor.GetAsync("/audit/AuditEvent?" + query), HttpStatusCode.OK)).Entry.Select(e => (AuditEvent)e.Resource!)];

        Assert.Equal(4, (await Search("agent=rbl-user")).Count);
        Assert.Equal(2, (await Search("organisation=n85001")).Count);
        var notFound = Assert.Single(await Search("outcome=4"));
        Assert.Contains(notFound.Entity, e => e.What?.Identifier?.Value == Unknown);
        Assert.Equal(4, (await Search($"source=RBL&outcome=0")).Count);
        var breakGlass = Assert.Single(await Search("break-glass=true"));
        Assert.Equal("BTG", breakGlass.PurposeOfEvent.Single().Coding.Single().Code);
        // The five record accesses, and the auditor's own five searches before this one (auditors are audited).
        var notBreakGlass = await Search("break-glass=false");
        Assert.Equal(5, notBreakGlass.Count(e => e.Subtype.Single().Code != "search"));
        Assert.Equal(5, notBreakGlass.Count(e => e.Subtype.Single().Code == "search"));
        Assert.Empty(await Search($"patient={Shared}&date=lt{DateTime.UtcNow.AddDays(-2):yyyy-MM-dd}"));
    }

    [Fact]
    public async Task AuditEventSearch_Paging_FollowsNextLinksToEveryMatchOnceInEitherOrder()
    {
        using var host = await HostWithAccessesAsync();
        var auditor = Auditor(host);

        // Each search is itself audited: bound the period to before the first, so the pages hold the same events.
        var until = "date=lt" + Uri.EscapeDataString(DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        var all = (await FhirAssert.ReadAsync<Bundle>(await auditor.GetAsync("/audit/AuditEvent?" + until), HttpStatusCode.OK)).Entry.Select(e => e.Resource.Id).ToList();

        var forwards = await PagesAsync(auditor, "/audit/AuditEvent?_count=2&" + until);
        var backwards = await PagesAsync(auditor, "/audit/AuditEvent?_count=4&_sort=-date&" + until);

        Assert.Equal(6, all.Count);
        Assert.Equal(all, forwards.SelectMany(p => p));
        Assert.Equal([2, 2, 2], forwards.Select(p => p.Count));
        Assert.Equal(Enumerable.Reverse(all), backwards.SelectMany(p => p));
        Assert.Equal([4, 2], backwards.Select(p => p.Count));
    }

    [Fact]
    public async Task AuditEventSearch_UnknownParameterOrBadValue_Returns400AndClinicians403()
    {
        using var host = await HostWithAccessesAsync();

        var unknown = await FhirAssert.OutcomeAsync(await Auditor(host).GetAsync($"/audit/AuditEvent?patinet={Shared}"), HttpStatusCode.BadRequest);
        var badNhs = await FhirAssert.OutcomeAsync(await Auditor(host).GetAsync("/audit/AuditEvent?patient=9000000008"), HttpStatusCode.BadRequest);
        await FhirAssert.OutcomeAsync(await Auditor(host).GetAsync("/audit/AuditEvent?date=ge2024-01-01&date=le2025-12-31"), HttpStatusCode.BadRequest);
        await FhirAssert.OutcomeAsync(await Auditor(host).GetAsync("/audit/AuditEvent?_cursor=nonsense"), HttpStatusCode.BadRequest);
        await FhirAssert.OutcomeAsync(await host.CreateClient(_issuer.CreateToken()).GetAsync("/audit/AuditEvent"), HttpStatusCode.Forbidden);

        Assert.Contains("'patinet' is not a search parameter", unknown.Text(), StringComparison.Ordinal);
        Assert.DoesNotContain("9000000008", badNhs.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_StreamsTheLogAsStoredAndEachLineLinksToTheOneBefore()
    {
        using var host = await HostWithAccessesAsync();
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        var response = await Auditor(host).GetAsync($"/audit/$export?start={today}&end={today}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(AuditorEndpoints.NdjsonMediaType, response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(host.AuditEvents().Select(e => e.Id).Order(), lines.Select(l => IdOf(l)).Order());
        var stored = await AuditStoreContract.LinesAsync(AuditContainer(host), (await AuditStoreContract.LogBlobsAsync(AuditContainer(host)))[0]);
        Assert.Equal(stored, lines.Take(stored.Count));
        for (var i = 1; i < stored.Count; i++)
        {
            AuditChain.TryReadLink(Encoding.UTF8.GetBytes(lines[i]), out _, out var previous);
            Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(lines[i - 1])), previous);
        }
    }

    [Fact]
    public async Task Verify_LogEndingInAnUnfinishedWrite_IntactWithAWarningNamingTheTornLine()
    {
        using var host = await HostWithAccessesAsync();
        var auditor = Auditor(host);
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var store = AuditContainer(host);
        // A second instance on the same storage, killed part-way through writing an append: the start of a line, no newline.
        var before = await AuditStoreContract.LogBlobsAsync(store);
        await using (var killed = new AuditRig(store, instance: "gw-killed", time: TimeProvider.System))
        {
            await killed.Log.AppendAsync(AuditRig.Event(1, DateTimeOffset.UtcNow, instance: "gw-killed"), default);
        }

        var blob = Assert.Single((await AuditStoreContract.LogBlobsAsync(store)).Except(before));
        var lines = await AuditStoreContract.LinesAsync(store, blob);
        await store.AppendAsync(blob, BinaryData.FromString(lines[0][..100]), default);

        var verification = await FhirAssert.OutcomeAsync(await auditor.GetAsync($"/audit/$verify?date={today}"), HttpStatusCode.OK);

        Assert.Equal(OperationOutcome.IssueSeverity.Information, verification.Issue[0].Severity);
        Assert.Contains("every blob's hash chain is intact", verification.Issue[0].Diagnostics, StringComparison.Ordinal);
        var torn = Assert.Single(verification.Issue.Skip(1));
        Assert.Equal((OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.Incomplete), (torn.Severity, torn.Code));
        Assert.Equal($"{blob}#L{lines.Count + 1}", torn.Location.Single());
        Assert.Contains("unfinished write (100 bytes", torn.Diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_IntactLogThenAHandEditedEvent_ReportsTheBlobLineAndEvent()
    {
        using var host = await HostWithAccessesAsync();
        var auditor = Auditor(host);
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var intact = await FhirAssert.OutcomeAsync(await auditor.GetAsync($"/audit/$verify?date={today}"), HttpStatusCode.OK);
        var store = AuditContainer(host);
        var blobs = await AuditStoreContract.LogBlobsAsync(store);
        var blob = (await Task.WhenAll(blobs.Select(async b => (Name: b, Lines: await AuditStoreContract.LinesAsync(store, b))))).MaxBy(b => b.Lines.Count);
        var editedId = IdOf(blob.Lines[0]);
        // Someone with access to the storage account changes who looked: the API itself offers no way to.
        await AuditStoreContract.ReplaceAsync(store, blob.Name, [blob.Lines[0].Replace("gp-user", "gp-usex", StringComparison.Ordinal).Replace("rbl-user", "rbl-usex", StringComparison.Ordinal), .. blob.Lines[1..]]);

        var altered = await FhirAssert.OutcomeAsync(await auditor.GetAsync($"/audit/$verify?date={today}"), HttpStatusCode.OK);

        Assert.Equal(OperationOutcome.IssueSeverity.Information, intact.Issue.Single().Severity);
        Assert.Contains("6 event(s); every blob's hash chain is intact", intact.Text(), StringComparison.Ordinal);
        Assert.Equal(OperationOutcome.IssueSeverity.Error, altered.Issue[0].Severity);
        var issue = Assert.Single(altered.Issue.Skip(1));
        Assert.Equal($"{blob.Name}#L2", issue.Location.Single());
        Assert.Contains($"{blob.Name}, line 2:", issue.Diagnostics, StringComparison.Ordinal);
        Assert.Contains($"does not follow line 1 (event {editedId})", issue.Diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disclosures_ForASource_ListOnlyOthersWhoReceivedItsDataBreakGlassFirst()
    {
        using var host = await HostWithAccessesAsync();

        var response = await Auditor(host).GetAsync("/audit/$disclosures?source=N85001");

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        var disclosures = bundle.Entry.Select(e => Assert.IsType<AuditEvent>(e.Resource)).ToList();
        // rbl-user broke the glass for the objector, then read the shared patient and an item through N85001's route, all
        // data N85001 returned; gp-user's own reads, and rbl-user's read of a patient N85001 does not hold, disclose nothing.
        // The route read names its patient as every access does.
        Assert.Equal([Objector, Shared, Shared], disclosures.Select(d => d.Entity.SingleOrDefault(e => e.Role?.Code == "1")?.What.Identifier.Value));
        Assert.Equal(["BTG", "TREAT", "TREAT"], disclosures.Select(d => d.PurposeOfEvent.Single().Coding.Single().Code));
        Assert.Contains("/sources/N85001/fhir/Condition/c9", disclosures[1].Entity.Single(e => e.Role?.Code == "24").Description, StringComparison.Ordinal);
        Assert.All(disclosures, d =>
        {
            Assert.Equal(AuditDisclosures.Profile, d.Meta.Profile.Single());
            Assert.Equal("disclose", d.Subtype.Single().Code);
            Assert.Equal("N85001", d.Agent.Single(a => a.Type.Coding[0].Code == "110153").Who.Identifier.Value);
            Assert.Equal("rbl-user", d.Agent.Single(a => a.Requestor == true).Who.Identifier.Value);
            Assert.Equal("RBL", d.Agent.Single(a => a.Type.Coding[0].Code == "110152" && a.Who.Identifier is not null).Who.Identifier.Value);
        });
        await FhirAssert.OutcomeAsync(await Auditor(host).GetAsync("/audit/$disclosures"), HttpStatusCode.BadRequest);
    }

    public void Dispose()
    {
        _gp.Dispose();
        _acute.Dispose();
        _issuer.Dispose();
    }

    /// <summary>
    /// Six accesses, one at a time so their order is known: gp-user reads the shared patient; rbl-user breaks the glass
    /// for the objector, reads the shared patient and the hospital-only one; gp-user asks for an NHS number nobody holds;
    /// rbl-user reads an item at the GP through its route.
    /// </summary>
    private async Task<GatewayHost> HostWithAccessesAsync()
    {
        var host = new GatewayHost(_issuer, [_gp, _acute], registry => registry.Objections.Add(new()
        {
            NhsNumber = Objector, RecordedOn = new DateOnly(2026, 3, 5), RecordedBy = "Riverside Medical Centre reception",
        }));
        var gp = host.CreateClient(_issuer.CreateToken(ods: "N85001", userId: "gp-user"));
        var rbl = host.CreateClient(_issuer.CreateToken(ods: "RBL", userId: "rbl-user"));
        Assert.Equal(HttpStatusCode.OK, (await gp.GetAsync(Record(Shared))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await rbl.GetAsync(Record(Objector) + "&breakGlassReason=" + Uri.EscapeDataString(Reason))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await rbl.GetAsync(Record(Shared))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await rbl.GetAsync(Record(HospitalOnly))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await gp.GetAsync(Record(Unknown))).StatusCode);
        _gp.WithRead(ClinicalData.Condition("c9", "gp-1")).WithRead(FhirSource.NewPatient("gp-1", Shared));
        Assert.Equal(HttpStatusCode.OK, (await rbl.GetAsync("/sources/N85001/fhir/Condition/c9")).StatusCode);
        return host;
    }

    private HttpClient Auditor(GatewayHost host) => host.CreateClient(_issuer.CreateToken(role: "Auditor", ods: null, userId: "ig-lead"));

    private static IBlobStore AuditContainer(GatewayHost host) => host.Services.GetRequiredService<IBlobStores>()[StorageContainer.Audit];

    private static async Task<List<List<string>>> PagesAsync(HttpClient client, string first)
    {
        var pages = new List<List<string>>();
        for (var url = first; url is not null && pages.Count < 20;)
        {
            var bundle = await FhirAssert.ReadAsync<Bundle>(await client.GetAsync(url), HttpStatusCode.OK);
            pages.Add([.. bundle.Entry.Select(e => e.Resource.Id!)]);
            url = bundle.Link.SingleOrDefault(l => l.Relation == "next")?.Url;
        }

        return pages;
    }

    private static string? IdOf(string line) => System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("id").GetString();

    private static string Record(string nhs) => $"/fhir/Patient/$wcr-getrecord?patientNHSNumber={nhs}";

    private static string User(AuditEvent auditEvent) => auditEvent.Agent.Single(a => a.Requestor == true).Who.Identifier.Value!;

    private static string Organisation(AuditEvent auditEvent) =>
        auditEvent.Agent.Single(a => a.Requestor != true && a.Who.Identifier?.System == OdsCode.System).Who.Identifier.Value!;
}
