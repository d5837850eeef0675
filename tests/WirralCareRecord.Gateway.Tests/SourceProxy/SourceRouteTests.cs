using System.Net;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.SourceProxy;

public sealed class SourceRouteTests : IDisposable
{
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);

    // The route answers only for a patient it can name: the source knows pas-1 by this NHS number.
    public SourceRouteTests() => _acute.WithPatient(FhirSource.NewPatient("pas-1", "9000000009"));

    [Fact]
    public async Task SourceRoute_Read_ForwardsRewritesAddressesAndAudits()
    {
        var condition = ClinicalData.Condition("c1", "pas-1");
        condition.Subject = new ResourceReference($"{_acute.BaseUrl}/Patient/pas-1");
        _acute.WithRead(condition, new Dictionary<string, string> { ["Location"] = $"{_acute.BaseUrl}/Condition/c1/_history/1" });
        using var host = new GatewayHost(_issuer, [_acute]);

        var response = await host.CreateClient(_issuer.CreateToken(userId: "clinician-7")).GetAsync("/sources/RBL/fhir/Condition/c1");

        var read = await FhirAssert.ReadAsync<Condition>(response, HttpStatusCode.OK);
        Assert.Equal("http://localhost/sources/RBL/fhir/Patient/pas-1", read.Subject.Reference);
        Assert.Equal("http://localhost/sources/RBL/fhir/Condition/c1/_history/1", response.Headers.Location?.ToString());
        var audit = Assert.Single(host.AuditEvents());
        Assert.Equal(AuditEvent.AuditEventAction.R, audit.Action);
        Assert.Equal("clinician-7", audit.Agent.First(a => a.Requestor == true).Who.Identifier.Value);
        Assert.Contains(audit.Entity, e => e.What?.Identifier?.Value == "RBL" && e.Description == "returned");
    }

    [Fact]
    public async Task SourceRoute_Search_RewritesFullUrlsAndNextLinks()
    {
        var conditions = Enumerable.Range(1, 4).Select(i => (Resource)ClinicalData.Condition($"c{i}", "pas-1")).ToList();
        _acute.WithSearch("Condition", "pas-1", conditions, pageSize: 2);
        using var host = new GatewayHost(_issuer, [_acute]);

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync("/sources/RBL/fhir/Condition?patient=pas-1&_count=2");

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.All(bundle.Entry, e => Assert.StartsWith("http://localhost/sources/RBL/fhir/Condition/", e.FullUrl, StringComparison.Ordinal));
        Assert.StartsWith("http://localhost/sources/RBL/fhir/Condition?", bundle.NextLink?.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(_acute.Server.Url!, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SourceRoute_RestrictedItem_IsWithheldInReadsAndSearches()
    {
        var restricted = ClinicalData.Condition("r1", "pas-1", "35489007", "Depressive disorder");
        restricted.Meta = new Meta { Security = [new Coding("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "V")] };
        _acute.WithRead(restricted).WithSearch("Condition", "pas-1", [restricted, ClinicalData.Condition("c2", "pas-1")]);
        using var host = new GatewayHost(_issuer, [_acute]);
        var client = host.CreateClient(_issuer.CreateToken());

        var read = await client.GetAsync("/sources/RBL/fhir/Condition/r1");
        var search = await client.GetAsync("/sources/RBL/fhir/Condition?patient=pas-1");

        var outcome = await FhirAssert.OutcomeAsync(read, HttpStatusCode.Forbidden);
        Assert.Contains("marked restricted", outcome.Text(), StringComparison.Ordinal);
        var bundle = await FhirAssert.ReadAsync<Bundle>(search, HttpStatusCode.OK);
        Assert.Equal("c2", Assert.Single(bundle.Entry, e => e.Search?.Mode == Bundle.SearchEntryMode.Match).Resource.Id);
        // The answer says an item was withheld, never what it was.
        Assert.Contains("withheld", bundle.SourceOutcomes()!.Text(), StringComparison.Ordinal);
        Assert.DoesNotContain("35489007", await read.Content.ReadAsStringAsync() + await search.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SourceRoute_PatientHasObjected_ReadsAndSearchesAreRefusedUnlessBreakGlass()
    {
        const string objector = "9000000017";
        var patient = FhirSource.NewPatient("pas-9", objector);
        _acute.WithPatient(patient).WithRead(patient).WithRead(ClinicalData.Condition("c9", "pas-9")).WithSearch("Condition", "pas-9", [ClinicalData.Condition("c9", "pas-9")]);
        using var host = new GatewayHost(_issuer, [_acute], registry => registry.Objections.Add(new() { NhsNumber = objector, RecordedOn = new DateOnly(2026, 3, 5), RecordedBy = "reception" }));
        var client = host.CreateClient(_issuer.CreateToken());

        var search = await client.GetAsync($"/sources/RBL/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{objector}");
        var item = await client.GetAsync("/sources/RBL/fhir/Condition/c9");
        var items = await client.GetAsync("/sources/RBL/fhir/Condition?patient=pas-9");
        client.DefaultRequestHeaders.Add("X-Break-Glass-Reason", "Unconscious in resus, allergies unknown");
        var breakGlass = await client.GetAsync("/sources/RBL/fhir/Condition/c9");

        foreach (var refused in new[] { search, item, items })
        {
            Assert.Contains("opted out", (await FhirAssert.OutcomeAsync(refused, HttpStatusCode.Forbidden)).Text(), StringComparison.Ordinal);
        }

        await FhirAssert.ReadAsync<Condition>(breakGlass, HttpStatusCode.OK);
        Assert.Equal("BTG", host.AuditEvents()[^1].PurposeOfEvent.Single().Coding.Single().Code);
    }

    [Fact]
    public async Task SourceRoute_ItemsPatientCannotBeEstablished_IsNotShown()
    {
        _acute.WithRead(ClinicalData.Condition("c9", "pas-gone"));
        using var host = new GatewayHost(_issuer, [_acute], registry => registry.Objections.Add(new() { NhsNumber = "9000000017", RecordedOn = new DateOnly(2026, 3, 5), RecordedBy = "reception" }));

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync("/sources/RBL/fhir/Condition/c9");

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.BadGateway);
        Assert.Contains("could not confirm whose record this is", outcome.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SourceRoute_CallersTokenIsNeverSentToTheSource()
    {
        _acute.WithRead(ClinicalData.Condition("c1", "pas-1"));
        using var host = new GatewayHost(_issuer, [_acute]);

        await host.CreateClient(_issuer.CreateToken()).GetAsync("/sources/RBL/fhir/Condition/c1");

        var forwarded = _acute.DataRequests.Single(e => e.RequestMessage!.Path == "/fhir/Condition/c1").RequestMessage!;
        Assert.False(forwarded.Headers?.ContainsKey("Authorization") ?? false);
        Assert.True(forwarded.Headers?.ContainsKey("X-Request-ID"));
    }

    [Fact]
    public async Task SourceRoute_NoToken_Returns401AndSourceIsNotCalled()
    {
        using var host = new GatewayHost(_issuer, [_acute]);

        var response = await host.CreateClient(token: null).GetAsync("/sources/RBL/fhir/Condition/c1");

        await FhirAssert.OutcomeAsync(response, HttpStatusCode.Unauthorized);
        Assert.Empty(_acute.RequestedPaths);
        Assert.Single(host.AuditEvents());
    }

    [Fact]
    public async Task SourceRoute_ResourceTypeNotShared_Returns403AndSourceIsNotCalled()
    {
        using var host = new GatewayHost(_issuer, [_acute]);

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync("/sources/RBL/fhir/Practitioner/p1");

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains("'Practitioner' is not a kind of record RBL shares", outcome.Text(), StringComparison.Ordinal);
        Assert.Empty(_acute.RequestedPaths);
    }

    [Fact]
    public async Task SourceRoute_SourcesAgreementRevoked_Returns403AndSourceIsNotCalled()
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        using var host = new GatewayHost(_issuer, [_acute], registry =>
        {
            registry.Agreements[0].Revoked = true;
            // The caller keeps an agreement of its own, so sign-in passes and the refusal is about RBL's data.
            registry.Agreements.Add(new() { Id = "GP-ONLY", Providers = ["N85001"], Consumers = ["N85001"], EffectiveFrom = today.AddDays(-1), Expires = today.AddDays(30), Document = GatewayHost.SignedDocument });
        });

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync("/sources/RBL/fhir/Condition/c1");

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains("RBL does not share records with N85001", outcome.Text(), StringComparison.Ordinal);
        Assert.Empty(_acute.RequestedPaths);
    }

    [Fact]
    public async Task SourceRoute_SourceAnswersHtml_Returns502OperationOutcome()
    {
        _acute.AnswerEverything(HttpStatusCode.OK, "<html>maintenance</html>", "text/html");
        using var host = new GatewayHost(_issuer, [_acute]);

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync("/sources/RBL/fhir/Condition/c1");

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.BadGateway);
        Assert.Contains("text/html", outcome.Text(), StringComparison.Ordinal);
        Assert.Contains(Assert.Single(host.AuditEvents()).Entity, e => e.Description == "unreadable");
    }

    [Fact]
    public async Task SourceRoute_SourceDown_Returns502()
    {
        using var host = new GatewayHost(_issuer, [_acute]);
        _acute.Server.Stop();

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync("/sources/RBL/fhir/Condition/c1");

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.BadGateway);
        Assert.Contains("RBL could not be reached", outcome.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SourceRoute_AuditCannotBeWritten_Returns503WithoutTheResource()
    {
        _acute.WithRead(ClinicalData.Condition("c1", "pas-1"));
        using var host = new GatewayHost(_issuer, [_acute]);
        using var broken = host.BreakAuditStorage();

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync("/sources/RBL/fhir/Condition/c1");

        await FhirAssert.OutcomeAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.DoesNotContain("44054006", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _acute.Dispose();
        _issuer.Dispose();
    }
}
