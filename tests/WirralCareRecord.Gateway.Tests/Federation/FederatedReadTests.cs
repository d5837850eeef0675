using System.Diagnostics;
using System.Net;
using System.Text;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.PatientMatching;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Federation;

public sealed class FederatedReadTests : IDisposable
{
    private const string Nhs = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);
    private readonly FhirSource _community = new("RY7", "Wirral Community Health and Care", OrganisationKind.CommunityTrust);

    private GatewayHost Host(Dictionary<string, string?>? settings = null, params FhirSource[] sources) =>
        new(_issuer, sources.Length > 0 ? sources : [_gp, _acute, _community], settings: settings);

    private static string RecordUrl(string nhs = Nhs) => $"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Uri.EscapeDataString(nhs)}";

    [Fact]
    public async Task GetRecord_ThreeSources_MergesEveryItemWithProvenanceAndGatewayAddresses()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"), ClinicalData.Allergy("a1", "gp-1"), ClinicalData.Medication("m1", "gp-1"));
        _acute.WithPatient(FhirSource.NewPatient("pas-77", Nhs), ClinicalData.Encounter("e1", "pas-77"), ClinicalData.Condition("c9", "pas-77", "22298006", "Myocardial infarction"));
        _community.WithPatient(FhirSource.NewPatient("com-5", Nhs), ClinicalData.Encounter("e2", "com-5"));
        using var host = Host();

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync(RecordUrl());

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.Equal(Bundle.BundleType.Searchset, bundle.Type);
        var items = bundle.Entry.Where(e => e.Resource is not Provenance and not OperationOutcome).ToList();
        Assert.Equal(9, items.Count);
        Assert.Equal(3, bundle.Total);
        Assert.Contains(items, e => e.FullUrl == "http://localhost/sources/N85001/fhir/Condition/c1");
        Assert.Contains(items, e => e.FullUrl == "http://localhost/sources/RBL/fhir/Encounter/e1");
        Assert.Contains(items, e => e.FullUrl == "http://localhost/sources/RY7/fhir/Patient/com-5");
        var json = FhirJson.Serialize(bundle);
        Assert.DoesNotContain(_gp.Server.Url!, json, StringComparison.Ordinal);
        Assert.DoesNotContain(_acute.Server.Url!, json, StringComparison.Ordinal);

        var provenance = bundle.Entry.Select(e => e.Resource).OfType<Provenance>().ToList();
        Assert.Equal(["N85001", "RBL", "RY7"], provenance.Select(p => p.Agent.Single().Who.Identifier.Value).Order());
        var acuteProvenance = provenance.Single(p => p.Agent.Single().Who.Identifier.Value == "RBL");
        Assert.Equal(OdsCode.System, acuteProvenance.Agent.Single().Who.Identifier.System);
        Assert.Equal(3, acuteProvenance.Target.Count);
        Assert.Contains(acuteProvenance.Target, t => t.Reference == "http://localhost/sources/RBL/fhir/Encounter/e1");
        Assert.NotNull(acuteProvenance.Recorded);
        Assert.Empty(bundle.SourceIssues());
    }

    [Fact]
    public async Task GetRecord_SameAllergyAtTwoSources_KeepsBothAndLinksThem()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Allergy("a-gp", "gp-1"), ClinicalData.Condition("c-gp", "gp-1"));
        _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Allergy("a-pas", "pas-1"), ClinicalData.Condition("c-pas", "pas-1", "22298006", "Myocardial infarction"));
        using var host = Host(sources: [_gp, _acute]);

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync(RecordUrl());

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        var allergies = bundle.Entry.Select(e => e.Resource).OfType<AllergyIntolerance>().ToList();
        Assert.Equal(2, allergies.Count);
        var tags = allergies.Select(a => Assert.Single(a.Meta.Tag, t => t.System == "https://fhir.wirralcarerecord.nhs.uk/CodeSystem/wcr-same-item")).ToList();
        Assert.Equal(tags[0].Code, tags[1].Code);
        Assert.Contains("N85001", tags[0].Display, StringComparison.Ordinal);
        Assert.Contains("RBL", tags[0].Display, StringComparison.Ordinal);
        Assert.All(bundle.Entry.Select(e => e.Resource).OfType<Condition>(), c => Assert.DoesNotContain(c.Meta.Tag, t => t.System == "https://fhir.wirralcarerecord.nhs.uk/CodeSystem/wcr-same-item"));
    }

    [Fact]
    public async Task GetRecord_PostWithParameters_ReturnsSameRecordAsGet()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        using var host = Host(sources: _gp);
        var parameters = new Parameters();
        parameters.Add("patientNHSNumber", new Identifier(NhsNumber.System, Nhs));

        var response = await host.CreateClient(_issuer.CreateToken())
            .PostAsync("/fhir/Patient/$wcr-getrecord", new StringContent(FhirJson.Serialize(parameters), Encoding.UTF8, FhirJson.MediaType));

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "c1" });
    }

    [Fact]
    public async Task GetRecord_PostWithWrongIdentifierSystem_Returns400SayingWhichSystem()
    {
        using var host = Host(sources: _gp);
        var parameters = new Parameters();
        parameters.Add("patientNHSNumber", new Identifier("https://example.org/mrn", Nhs));

        var response = await host.CreateClient(_issuer.CreateToken())
            .PostAsync("/fhir/Patient/$wcr-getrecord", new StringContent(FhirJson.Serialize(parameters), Encoding.UTF8, FhirJson.MediaType));

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(NhsNumber.System, outcome.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRecord_PostWithMalformedBody_Returns400AndNoSourceIsAsked()
    {
        using var host = Host(sources: _gp);

        var response = await host.CreateClient(_issuer.CreateToken())
            .PostAsync("/fhir/Patient/$wcr-getrecord", new StringContent("{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":", Encoding.UTF8, FhirJson.MediaType));

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("not valid JSON", outcome.Text(), StringComparison.Ordinal);
        Assert.Empty(_gp.RequestedPaths);
    }

    [Fact]
    public async Task GetRecord_OneSourceTimesOut_AnswersWithinTimeoutWithOthersDataAndNamesTheSlowSource()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        _community.WithPatient(FhirSource.NewPatient("com-5", Nhs), ClinicalData.Encounter("e2", "com-5"));
        _acute.AnswerEverything(HttpStatusCode.OK, "{}", FhirJson.ContentType, delay: TimeSpan.FromSeconds(20));
        using var host = Host(new() { ["Federation:SourceTimeout"] = "00:00:01" });
        var client = host.CreateClient(_issuer.CreateToken());

        var stopwatch = Stopwatch.StartNew();
        var response = await client.GetAsync(RecordUrl());
        stopwatch.Stop();

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        // Timeout 1 s plus a generous margin for a shared machine; far below the source's 20 s.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(6), $"took {stopwatch.Elapsed}");
        Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "c1" });
        Assert.Contains(bundle.Entry, e => e.Resource is Encounter { Id: "e2" });
        var issue = Assert.Single(bundle.SourceIssues());
        Assert.Equal(OperationOutcome.IssueType.Timeout, issue.Code);
        Assert.Contains("RBL", issue.Diagnostics, StringComparison.Ordinal);
        Assert.Equal("https://fhir.nhs.uk/Id/ods-organization-code|RBL", Assert.Single(issue.Location));
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError, "{\"resourceType\":\"OperationOutcome\"}", "application/fhir+json", "failed", "HTTP 500")]
    [InlineData(HttpStatusCode.OK, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{", "application/fhir+json", "unreadable", "not valid FHIR")]
    [InlineData(HttpStatusCode.OK, "<html><body>Service temporarily unavailable</body></html>", "text/html", "unreadable", "text/html")]
    public async Task GetRecord_OneSourceBroken_ReturnsOthersAndNamesTheBrokenSource(HttpStatusCode status, string body, string contentType, string outcomeCode, string expectedText)
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        _acute.AnswerEverything(status, body, contentType);
        using var host = Host(sources: [_gp, _acute]);

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync(RecordUrl());

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "c1" });
        Assert.DoesNotContain(bundle.Entry, e => e.FullUrl?.Contains("/RBL/", StringComparison.Ordinal) == true);
        var issue = Assert.Single(bundle.SourceIssues());
        Assert.Contains("(RBL)", issue.Diagnostics, StringComparison.Ordinal);
        Assert.Contains(expectedText, issue.Diagnostics, StringComparison.Ordinal);
        Assert.Equal(outcomeCode, issue.Details.Coding.Single().Code);
    }

    [Fact]
    public async Task GetRecord_OneSourceDoesNotKnowPatient_SaysSoAsInformation()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        using var host = Host(sources: [_gp, _community]);

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync(RecordUrl());

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        var issue = Assert.Single(bundle.SourceIssues());
        Assert.Equal(OperationOutcome.IssueSeverity.Information, issue.Severity);
        Assert.Equal(OperationOutcome.IssueType.NotFound, issue.Code);
        Assert.Contains("RY7", issue.Diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRecord_NoSourceKnowsPatient_Returns404NamingEverySource()
    {
        using var host = Host();

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync(RecordUrl());

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.NotFound);
        Assert.Contains("No source organisation holds a record", outcome.Text(), StringComparison.Ordinal);
        foreach (var ods in new[] { "N85001", "RBL", "RY7" })
        {
            Assert.Contains(outcome.Issue, i => i.Location.Contains($"{OdsCode.System}|{ods}"));
        }
    }

    [Fact]
    public async Task GetRecord_SourcePagesResults_FollowsNextLinksToTheEnd()
    {
        var patient = FhirSource.NewPatient("gp-1", Nhs);
        var conditions = Enumerable.Range(1, 7).Select(i => (Resource)ClinicalData.Condition($"c{i}", "gp-1")).ToList();
        _gp.WithPatient(patient).WithSearch("Condition", "gp-1", conditions, pageSize: 3);
        using var host = Host(sources: _gp);

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync(RecordUrl());

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.Equal(7, bundle.Entry.Count(e => e.Resource is Condition));
        Assert.Contains(_gp.RequestedPaths, p => p.Contains("_page=3", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetRecord_SourceSendsAnotherPatientsItems_WithholdsThemAndSaysSo()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("mine", "gp-1"), ClinicalData.Condition("someone-else", "gp-2"));
        using var host = Host(sources: _gp);

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync(RecordUrl());

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "mine" });
        Assert.DoesNotContain(bundle.Entry, e => e.Resource is Condition { Id: "someone-else" });
        var issue = Assert.Single(bundle.SourceIssues());
        Assert.Equal(OperationOutcome.IssueType.Suppressed, issue.Code);
        Assert.Contains("1 item(s) were withheld", issue.Diagnostics, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("R")]
    [InlineData("V")]
    public async Task GetRecord_ItemLabelledRestricted_IsWithheldWithoutSayingWhatItWas(string confidentiality)
    {
        var sensitive = ClinicalData.Condition("sensitive", "gp-1", "35489007", "Depressive disorder");
        sensitive.Meta = new Meta { Security = [new Coding("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", confidentiality)] };
        var normal = ClinicalData.Condition("normal", "gp-1");
        normal.Meta = new Meta { Security = [new Coding("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "N")] };
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), sensitive, normal);
        using var host = Host(sources: _gp);

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync(RecordUrl());

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "normal" });
        var json = FhirJson.Serialize(bundle);
        Assert.DoesNotContain("35489007", json, StringComparison.Ordinal);
        Assert.DoesNotContain("Depressive", json, StringComparison.Ordinal);
        Assert.Contains("1 item(s) were withheld", Assert.Single(bundle.SourceIssues()).Diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRecord_SourceReturnsTwoPatientsForOneNhsNumber_MergesNeither()
    {
        var search = _gp.SearchSet([FhirSource.NewPatient("gp-1", Nhs), FhirSource.NewPatient("gp-2", Nhs, "Smith", "Anne")]);
        _gp.Server.Given(WireMock.RequestBuilders.Request.Create().UsingGet().WithPath("/fhir/Patient"))
            .AtPriority(1)
            .RespondWith(WireMock.ResponseBuilders.Response.Create().WithHeader("Content-Type", FhirJson.ContentType).WithBody(FhirJson.Serialize(search)));
        _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Encounter("e1", "pas-1"));
        using var host = Host(sources: [_gp, _acute]);

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync(RecordUrl());

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.DoesNotContain(bundle.Entry, e => e.FullUrl?.Contains("/N85001/", StringComparison.Ordinal) == true);
        var issue = Assert.Single(bundle.SourceIssues());
        Assert.Equal(OperationOutcome.IssueType.MultipleMatches, issue.Code);
    }

    [Fact]
    public async Task GetRecord_SourceKeepsFailing_CircuitOpensAndSourceIsNoLongerAsked()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        _acute.AnswerEverything(HttpStatusCode.ServiceUnavailable, "{}", FhirJson.ContentType);
        using var host = Host(new() { ["Federation:BreakerMinimumThroughput"] = "2", ["Federation:BreakerBreakDuration"] = "00:05:00" }, _gp, _acute);
        var client = host.CreateClient(_issuer.CreateToken());

        await client.GetAsync(RecordUrl());
        await client.GetAsync(RecordUrl());
        var callsBefore = _acute.DataRequests.Count;
        var response = await client.GetAsync(RecordUrl());

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.Equal(callsBefore, _acute.DataRequests.Count);
        var issue = Assert.Single(bundle.SourceIssues());
        Assert.Equal("circuit-open", issue.Details.Coding.Single().Code);
        Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "c1" });
        Assert.Equal(2, BreakerStates(host)["RBL"]);
    }

    /// <summary>The breaker-state gauge as this gateway's meter reports it (other hosts in the run have their own meters).</summary>
    private static Dictionary<string, int> BreakerStates(GatewayHost host)
    {
        var factory = host.Services.GetService(typeof(System.Diagnostics.Metrics.IMeterFactory));
        var states = new Dictionary<string, int>();
        using var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "wcr.source.breaker.state" && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) => states[(string)tags[0].Value!] = value);
        listener.Start();
        listener.RecordObservableInstruments();
        return states;
    }

    [Fact]
    public async Task GetRecord_AllSourcesFail_Returns502NotA404()
    {
        _gp.AnswerEverything(HttpStatusCode.InternalServerError, "{}", FhirJson.ContentType);
        using var host = Host(sources: _gp);

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync(RecordUrl());

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.BadGateway);
        Assert.Contains("a record may exist", outcome.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRecord_SourceWithoutActiveAgreement_IsNotAsked()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Encounter("e1", "pas-1"));
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        using var host = new GatewayHost(_issuer, [_gp, _acute], registry =>
        {
            registry.Agreements[0].Providers.Remove("RBL");
            registry.Agreements.Add(new() { Id = "EXPIRED", Providers = ["RBL"], Consumers = ["N85001"], SignedOn = today.AddYears(-2), EffectiveFrom = today.AddYears(-2), Expires = today.AddDays(-1) });
        });

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync(RecordUrl());

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.Empty(_acute.RequestedPaths);
        Assert.DoesNotContain(bundle.Entry, e => e.FullUrl?.Contains("/RBL/", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task GetRecord_Success_IsAuditedWithPatientAndEverySourceOutcome()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        using var host = Host(sources: [_gp, _acute]);

        var response = await host.CreateClient(_issuer.CreateToken(userId: "clinician-42")).GetAsync(RecordUrl());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var audit = Assert.Single(host.AuditEvents());
        Assert.Equal(AuditEvent.AuditEventOutcome.N0, audit.Outcome);
        Assert.Equal("clinician-42", audit.Agent.First(a => a.Requestor == true).Who.Identifier.Value);
        Assert.Contains(audit.Agent, a => a.Who.Identifier?.Value == "N85001" && a.Who.Identifier.System == OdsCode.System);
        Assert.Contains(audit.Entity, e => e.What?.Identifier?.System == NhsNumber.System && e.What.Identifier.Value == Nhs);
        Assert.Contains(audit.Entity, e => e.What?.Identifier?.Value == "N85001" && e.Description == "returned");
        Assert.Contains(audit.Entity, e => e.What?.Identifier?.Value == "RBL" && e.Description == "no-match");
    }

    [Fact]
    public async Task GetRecord_AuditCannotBeWritten_Returns503AndNoRecord()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        using var host = Host(sources: _gp);
        using var broken = host.BreakAuditStorage();

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync(RecordUrl());

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.Contains("audit", outcome.Text(), StringComparison.OrdinalIgnoreCase);
        // The SNOMED code of the condition: it appears only if clinical data leaked into the answer.
        Assert.DoesNotContain("44054006", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _gp.Dispose();
        _acute.Dispose();
        _community.Dispose();
        _issuer.Dispose();
    }
}
