using System.Net;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.SourceProxy;

/// <summary>
/// The source route tried as a hostile insider would: harvesting patient lists, reading round the agreement's data
/// categories, the legitimate-relationship rule and the demographic check, smuggling headers and hosts. Each is refused
/// before anything reaches the source, or answered under the federated read's rules, and audited against the patient.
/// </summary>
public sealed class SourceRouteAttackTests : IDisposable
{
    private const string Nhs = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);

    public SourceRouteAttackTests() =>
        _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Condition("c1", "pas-1"), ClinicalData.Allergy("a1", "pas-1"));

    public static TheoryData<string, string> Refused => new()
    {
        { "/sources/RBL/fhir/Patient?_count=200", "_count" },
        { "/sources/RBL/fhir/Patient?name=Jones", "name" },
        { "/sources/RBL/fhir/Patient?_has:Condition:patient:code=44054006", "_has:Condition:patient:code" },
        { "/sources/RBL/fhir/Patient?_offset=200", "_offset" },
        { "/sources/RBL/fhir/Patient", "identifier" },
        { "/sources/RBL/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009&_revinclude=Condition:patient", "_revinclude" },
        { "/sources/RBL/fhir/Patient/pas-1/Condition", "compartment" },
        { "/sources/RBL/fhir/Patient/pas-1/$everything", "$everything" },
        { "/sources/RBL/fhir/Patient/$everything", "$everything" },
        { "/sources/RBL/fhir/Condition", "patient" },
        { "/sources/RBL/fhir/Condition?patient=pas-1&_include=Condition:patient", "_include" },
        { "/sources/RBL/fhir/Condition?patient=pas-1&_elements=code", "_elements" },
        { "/sources/RBL/fhir/Condition?patient=pas-1&_contained=true", "_contained" },
        { "/sources/RBL/fhir/Condition?patient=pas-1&_format=xml", "_format" },
        { "/sources/RBL/fhir/Condition?patient=pas-1&subject.name=Jones", "subject.name" },
        { "/sources/RBL/fhir/Condition?patient.name=Jones", "patient" },
        { "/sources/RBL/fhir/Condition?patient=pas-1&onset-date=2020", "onset-date" },
        { "/sources/RBL/fhir/Condition?patient=pas-1&patient=pas-2", "patient" },
        { "/sources/RBL/fhir/Condition/c1?_elements=code", "_elements" },
        { "/sources/RBL/fhir/Condition/c1/_history", "history" },
        { "/sources/RBL/fhir/Condition%2Fc1", "Encoded" },
        { "/sources/RBL/fhir/Condition/..%2FPatient", "Encoded" },
        { "/sources/RBL/fhir/Binary/b1", "Binary" },
        { "/sources/RBL/fhir/metadata", "metadata" },
        { "/sources/RBL/fhir/", "resource type" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task OutsideTheContract_Refused400NamingWhatBeforeAnythingIsForwarded(string path, string named)
    {
        using var host = new GatewayHost(_issuer, [_acute]);
        var client = host.CreateClient(_issuer.CreateToken());
        client.DefaultRequestHeaders.Add("X-Break-Glass-Reason", "Unconscious in resus, allergies unknown");

        using var response = await client.GetAsync(path);

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(named, outcome.Text(), StringComparison.OrdinalIgnoreCase);
        Assert.Empty(_acute.RequestedPaths);
        Assert.Single(host.AuditEvents());
    }

    [Fact]
    public async Task AgreementSharingOnlyAllergies_ConditionsCannotBeReadRoundIt()
    {
        using var host = new GatewayHost(_issuer, [_acute], registry => registry.Agreements[0].DataCategories = ["AllergyIntolerance"]);
        var client = host.CreateClient(_issuer.CreateToken());

        using var allergies = await client.GetAsync("/sources/RBL/fhir/AllergyIntolerance?patient=pas-1");
        using var conditions = await client.GetAsync("/sources/RBL/fhir/Condition?patient=pas-1");
        using var condition = await client.GetAsync("/sources/RBL/fhir/Condition/c1");
        using var compartment = await client.GetAsync("/sources/RBL/fhir/Patient/pas-1/Condition");

        Assert.Equal("a1", Assert.Single((await FhirAssert.ReadAsync<Bundle>(allergies, HttpStatusCode.OK)).Entry).Resource.Id);
        await FhirAssert.OutcomeAsync(conditions, HttpStatusCode.Forbidden);
        await FhirAssert.OutcomeAsync(condition, HttpStatusCode.Forbidden);
        await FhirAssert.OutcomeAsync(compartment, HttpStatusCode.BadRequest);
        Assert.DoesNotContain(_acute.RequestedPaths, p => p.StartsWith("/fhir/Condition", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SocialCareWithoutRelationship_RefusedOnTheRouteAsOnTheFederatedRead()
    {
        const string socialCare = "WIR01";
        using var council = new FhirSource(socialCare, "Wirral Council adult social care", OrganisationKind.SocialCare);
        using var host = new GatewayHost(_issuer, [_acute, council], registry =>
        {
            registry.Agreements[0].Consumers.Add(socialCare);
            registry.Agreements[0].Providers.Add(socialCare);
        });
        var client = host.CreateClient(_issuer.CreateToken(ods: socialCare));

        using var federated = await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");
        var before = _acute.RequestedPaths.Count;
        using var route = await client.GetAsync("/sources/RBL/fhir/AllergyIntolerance?patient=pas-1");

        Assert.Contains("no recorded relationship", (await FhirAssert.OutcomeAsync(federated, HttpStatusCode.Forbidden)).Text(), StringComparison.Ordinal);
        Assert.Contains("no recorded relationship", (await FhirAssert.OutcomeAsync(route, HttpStatusCode.Forbidden)).Text(), StringComparison.Ordinal);
        Assert.DoesNotContain(_acute.RequestedPaths.Skip(before), p => p.StartsWith("/fhir/AllergyIntolerance", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SourceLeftOutForDifferentDemographics_IsRefusedOnTheRouteWithoutTheOtherRecordsValues()
    {
        const string conflicted = "9000000270";
        using var gp = new FhirSource("N85002", "Hoylake Road Surgery", OrganisationKind.GpPractice);
        using var gp2 = new FhirSource("N85003", "Moreton Health Clinic", OrganisationKind.GpPractice);
        gp.WithPatient(FhirSource.NewPatient("gp-1", conflicted), ClinicalData.Condition("g1", "gp-1"));
        gp2.WithPatient(FhirSource.NewPatient("gp-2", conflicted), ClinicalData.Condition("g2", "gp-2"));
        _acute.WithPatient(FhirSource.NewPatient("pas-7", conflicted, birthDate: "1971-09-30"), ClinicalData.Condition("c7", "pas-7"));
        using var host = new GatewayHost(_issuer, [_acute, gp, gp2]);
        var client = host.CreateClient(_issuer.CreateToken());

        using var federated = await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={conflicted}");

        var record = await FhirAssert.ReadAsync<Bundle>(federated, HttpStatusCode.OK);
        Assert.DoesNotContain(record.Entry, e => e.Resource is Condition { Id: "c7" });
        var requestsAfterRead = _acute.RequestedPaths.Count;
        using var route = await client.GetAsync("/sources/RBL/fhir/Condition?patient=pas-7");
        using var read = await client.GetAsync("/sources/RBL/fhir/Patient/pas-7");
        foreach (var refused in new[] { route, read })
        {
            var text = (await FhirAssert.OutcomeAsync(refused, HttpStatusCode.Forbidden)).Text();
            Assert.Contains("leaves it out", text, StringComparison.Ordinal);
            Assert.DoesNotContain("1971", text, StringComparison.Ordinal);
            Assert.DoesNotContain("1958", text, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("/fhir/Condition?patient=pas-7", _acute.RequestedPaths.Skip(requestsAfterRead));
    }

    [Fact]
    public async Task CallersHeadersAndHost_NeverReachTheSourceOrItsLinks()
    {
        _acute.WithSearch("Condition", "pas-1", [ClinicalData.Condition("c1", "pas-1"), ClinicalData.Condition("c2", "pas-1")], pageSize: 1);
        using var host = new GatewayHost(_issuer, [_acute]);
        var client = host.CreateClient(_issuer.CreateToken());
        using var request = new HttpRequestMessage(HttpMethod.Get, "/sources/RBL/fhir/Condition?patient=pas-1");
        request.Headers.Host = "evil.example";
        request.Headers.Add("X-Forwarded-Host", "evil.example");
        request.Headers.Add("X-Custom", "smuggled");
        request.Headers.Add("Prefer", "handling=lenient");
        request.Headers.Add("X-Break-Glass-Reason", "Unconscious in resus, allergies unknown");
        request.Headers.UserAgent.ParseAdd("HarvestBot/1.0");
        request.Headers.Add("Cookie", "session=abc");

        using var response = await client.SendAsync(request);

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.StartsWith("http://localhost/sources/RBL/fhir/", bundle.NextLink?.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("evil.example", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var forwarded = _acute.DataRequests.Last(e => e.RequestMessage!.Path == "/fhir/Condition").RequestMessage!;
        var names = forwarded.Headers!.Keys.Select(k => k.ToLowerInvariant()).ToList();
        foreach (var name in new[] { "x-custom", "prefer", "x-break-glass-reason", "cookie", "authorization", "x-forwarded-host", "x-forwarded-for" })
        {
            Assert.DoesNotContain(name, names);
        }

        Assert.DoesNotContain("HarvestBot", string.Join(" ", forwarded.Headers.Values.SelectMany(v => v)), StringComparison.Ordinal);
        Assert.DoesNotContain("evil.example", string.Join(" ", forwarded.Headers.Values.SelectMany(v => v)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NextLinks_AreSignedForThisPatientAndRefusedWhenChanged()
    {
        _acute.WithSearch("Condition", "pas-1", [ClinicalData.Condition("c1", "pas-1"), ClinicalData.Condition("c2", "pas-1")], pageSize: 1);
        using var host = new GatewayHost(_issuer, [_acute]);
        var client = host.CreateClient(_issuer.CreateToken());

        var first = await FhirAssert.ReadAsync<Bundle>(await client.GetAsync("/sources/RBL/fhir/Condition?patient=pas-1"), HttpStatusCode.OK);
        var next = first.NextLink!.ToString();
        var second = await FhirAssert.ReadAsync<Bundle>(await client.GetAsync(next), HttpStatusCode.OK);
        using var changed = await client.GetAsync(next.Replace("pas-1", "pas-2", StringComparison.Ordinal));

        Assert.Equal("c2", Assert.Single(second.Entry).Resource.Id);
        await FhirAssert.OutcomeAsync(changed, HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("ZZZ99")]
    [InlineData("N85009")]
    public async Task UnknownOrNotLiveOrganisation_Returns404OperationOutcome(string ods)
    {
        using var suspended = new FhirSource("N85009", "Suspended Surgery", OrganisationKind.GpPractice);
        using var host = new GatewayHost(_issuer, [_acute, suspended], registry => registry.Organisations.Single(o => o.OdsCode == "N85009").State = LifecycleState.Suspended);

        using var response = await host.CreateClient(_issuer.CreateToken()).GetAsync($"/sources/{ods}/fhir/Condition?patient=pas-1");

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.NotFound);
        Assert.Contains(ods, outcome.Text(), StringComparison.Ordinal);
        Assert.Empty(suspended.RequestedPaths);
    }

    [Fact]
    public async Task EveryRouteAccess_AllowedOrRefused_IsFoundByTheAuditorsPatientSearch()
    {
        _acute.WithRead(ClinicalData.Condition("c1", "pas-1"));
        using var host = new GatewayHost(_issuer, [_acute]);
        var client = host.CreateClient(_issuer.CreateToken(userId: "clinician-42"));

        (await client.GetAsync("/sources/RBL/fhir/Condition?patient=pas-1")).Dispose();
        (await client.GetAsync("/sources/RBL/fhir/Patient/pas-1")).Dispose();
        (await client.GetAsync($"/sources/RBL/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{Nhs}")).Dispose();
        (await client.GetAsync("/sources/RBL/fhir/Condition/c1")).Dispose();
        (await client.GetAsync("/sources/RBL/fhir/Practitioner?patient=pas-1")).Dispose();

        var auditor = host.CreateClient(_issuer.CreateToken(role: "Auditor", ods: "X26", userId: "auditor-1"));
        var found = await FhirAssert.ReadAsync<Bundle>(await auditor.GetAsync($"/audit/AuditEvent?patient={Nhs}&_count=100"), HttpStatusCode.OK);
        var routeReads = found.Entry.Select(e => e.Resource).OfType<AuditEvent>()
            .Where(e => e.Agent.Any(a => a.Requestor == true && a.Who.Identifier.Value == "clinician-42"))
            .ToList();
        var all = host.AuditEvents().Where(e => e.Agent.Any(a => a.Requestor == true && a.Who.Identifier.Value == "clinician-42")).ToList();
        Assert.True(routeReads.Count == 4, string.Join(" || ", all.Select(e => string.Join("; ", e.Entity.Select(x => $"{x.What?.Identifier?.Value}={x.Description}")))));
        Assert.All(routeReads, e => Assert.Contains(e.Entity, x => x.What?.Identifier?.Value == Nhs));
    }

    public void Dispose()
    {
        _acute.Dispose();
        _issuer.Dispose();
    }
}
