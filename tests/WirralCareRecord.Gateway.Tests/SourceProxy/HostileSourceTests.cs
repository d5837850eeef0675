using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Hl7.Fhir.Model;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.SourceProxy;

/// <summary>
/// Source systems that do not behave: they ignore search parameters, answer other patients' items, put contained
/// resources and odd references in their answers, place addresses outside their registered base, answer without end or
/// not at all. What the gateway passes on is decided by the same pipeline on both routes, so each answer is tried on the
/// source route and, where it applies, on the federated read.
/// </summary>
public sealed class HostileSourceTests : IDisposable
{
    private const string Nhs = "9000000009";
    private const string Other = "9000000017";
    private const string SearchMark = "hostile";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);

    public HostileSourceTests() => _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs));

    private string Origin => _acute.Server.Url!;

    /// <summary>Every Condition search for pas-1 (route or federated) is answered with this Bundle, whatever else it asked.</summary>
    private void AnswerConditionSearch(JsonObject bundle) =>
        _acute.Server.Given(Request.Create().UsingGet().WithPath("/fhir/Condition").WithParam("patient", "pas-1"))
            .AtPriority(0)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/fhir+json").WithBody(bundle.ToJsonString()));

    private static JsonObject SearchSet(params (string FullUrl, JsonObject Resource)[] entries) => new()
    {
        ["resourceType"] = "Bundle",
        ["type"] = "searchset",
        ["total"] = entries.Length,
        ["entry"] = new JsonArray([.. entries.Select(e => (JsonNode)new JsonObject { ["fullUrl"] = e.FullUrl, ["resource"] = e.Resource, ["search"] = new JsonObject { ["mode"] = "match" } })]),
    };

    private static JsonObject Condition(string id, JsonNode subject, string code = "44054006") => new()
    {
        ["resourceType"] = "Condition",
        ["id"] = id,
        ["code"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://snomed.info/sct", ["code"] = code }), ["text"] = SearchMark },
        ["subject"] = subject,
    };

    private static JsonObject Ref(string reference) => new() { ["reference"] = reference };

    private static JsonObject NhsRef(string nhs) => new() { ["identifier"] = new JsonObject { ["system"] = "https://fhir.nhs.uk/Id/nhs-number", ["value"] = nhs } };

    private static JsonObject OtherPatient(string id) => new()
    {
        ["resourceType"] = "Patient",
        ["id"] = id,
        ["identifier"] = new JsonArray(new JsonObject { ["system"] = "https://fhir.nhs.uk/Id/nhs-number", ["value"] = Other }),
        ["name"] = new JsonArray(new JsonObject { ["family"] = "Otherperson", ["given"] = new JsonArray("Harriet") }),
        ["address"] = new JsonArray(new JsonObject { ["postalCode"] = "CH41 9ZZ" }),
    };

    private async Task<(Bundle Route, Bundle Federated, string Text)> ReadBothAsync(GatewayHost host)
    {
        var client = host.CreateClient(_issuer.CreateToken());
        using var route = await client.GetAsync("/sources/RBL/fhir/Condition?patient=pas-1");
        using var federated = await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");
        var text = await route.Content.ReadAsStringAsync() + await federated.Content.ReadAsStringAsync();
        return (await FhirAssert.ReadAsync<Bundle>(route, HttpStatusCode.OK), await FhirAssert.ReadAsync<Bundle>(federated, HttpStatusCode.OK), text);
    }

    private static IEnumerable<string> ConditionIds(Bundle bundle) => bundle.Entry.Select(e => e.Resource).OfType<Condition>().Select(c => c.Id!).Order(StringComparer.Ordinal);

    [Fact]
    public async Task SourceIgnoresSearchParameters_OtherPatientsItemsAndPatientsAreWithheldOnBothRoutes()
    {
        AnswerConditionSearch(SearchSet(
            ($"{_acute.BaseUrl}/Condition/c1", Condition("c1", Ref("Patient/pas-1"))),
            ($"{_acute.BaseUrl}/Condition/c2", Condition("c2", Ref("Patient/pas-2"))),
            ($"{_acute.BaseUrl}/Condition/c3", Condition("c3", Ref($"{_acute.BaseUrl}/Patient/pas-2"))),
            ($"{_acute.BaseUrl}/Patient/pas-2", OtherPatient("pas-2"))));
        using var host = new GatewayHost(_issuer, [_acute]);

        var (route, federated, text) = await ReadBothAsync(host);

        Assert.Equal(["c1"], ConditionIds(route));
        Assert.Equal(["c1"], ConditionIds(federated));
        Assert.DoesNotContain(route.Entry, e => e.Resource is Patient);
        Assert.DoesNotContain("Otherperson", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Other, text, StringComparison.Ordinal);
        Assert.DoesNotContain("pas-2", text, StringComparison.Ordinal);
        // The source's count included what was withheld: it is not passed on.
        Assert.True(route.Total is null or 1, $"total {route.Total}");
    }

    [Fact]
    public async Task RootBasedFullUrlsAndReferences_AreRewrittenToTheGateway()
    {
        var condition = Condition("c1", Ref($"{Origin}/fhir/Patient/pas-1"));
        condition["note"] = new JsonArray(new JsonObject { ["text"] = $"See {Origin}/documents/letter-1.pdf" });
        condition["evidence"] = new JsonArray(new JsonObject { ["detail"] = new JsonArray(Ref($"{Origin}/fhir/Observation/o1")) });
        AnswerConditionSearch(SearchSet(($"{Origin}/Condition/c1", condition)));
        using var host = new GatewayHost(_issuer, [_acute]);

        var (route, federated, text) = await ReadBothAsync(host);

        Assert.Equal(["c1"], ConditionIds(route));
        Assert.Equal(["c1"], ConditionIds(federated));
        Assert.DoesNotContain(Origin, text, StringComparison.Ordinal);
        Assert.DoesNotContain(new Uri(Origin).Authority, text, StringComparison.Ordinal);
        Assert.StartsWith("http://localhost/sources/RBL/", route.Entry.Single(e => e.Resource is Condition).FullUrl, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ContainedRestrictedItemOrContainedOtherPatient_WithholdsTheWholeItemOnBothRoutes()
    {
        var withRestricted = Condition("c1", Ref("Patient/pas-1"));
        withRestricted["contained"] = new JsonArray(new JsonObject
        {
            ["resourceType"] = "Observation",
            ["id"] = "secret",
            ["meta"] = new JsonObject { ["security"] = new JsonArray(new JsonObject { ["system"] = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", ["code"] = "R" }) },
            ["status"] = "final",
            ["code"] = new JsonObject { ["text"] = "Sexual health screen" },
        });
        withRestricted["evidence"] = new JsonArray(new JsonObject { ["detail"] = new JsonArray(Ref("#secret")) });
        var withOtherPatient = Condition("c2", Ref("Patient/pas-1"));
        withOtherPatient["contained"] = new JsonArray(OtherPatient("p2"));
        withOtherPatient["asserter"] = Ref("#p2");
        AnswerConditionSearch(SearchSet(
            ($"{_acute.BaseUrl}/Condition/c1", withRestricted),
            ($"{_acute.BaseUrl}/Condition/c2", withOtherPatient),
            ($"{_acute.BaseUrl}/Condition/c3", Condition("c3", Ref("Patient/pas-1")))));
        using var host = new GatewayHost(_issuer, [_acute]);

        var (route, federated, text) = await ReadBothAsync(host);

        Assert.Equal(["c3"], ConditionIds(route));
        Assert.Equal(["c3"], ConditionIds(federated));
        Assert.DoesNotContain("Sexual health screen", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Otherperson", text, StringComparison.Ordinal);
        Assert.DoesNotContain("CH41 9ZZ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IdentifierOnlyAndForeignAbsoluteReferences_TiedOnlyWhenTheyNameThisPatient()
    {
        AnswerConditionSearch(SearchSet(
            ($"{_acute.BaseUrl}/Condition/c1", Condition("c1", NhsRef(Nhs))),
            ($"{_acute.BaseUrl}/Condition/c2", Condition("c2", NhsRef(Other))),
            ($"{_acute.BaseUrl}/Condition/c3", Condition("c3", Ref("https://elsewhere.example/fhir/Patient/pas-1"))),
            ($"{_acute.BaseUrl}/Condition/c4", Condition("c4", new JsonObject { ["display"] = "Mrs S Jones" })),
            ($"{_acute.BaseUrl}/Condition/c5", Condition("c5", Ref("#nobody")))));
        using var host = new GatewayHost(_issuer, [_acute]);

        var (route, federated, text) = await ReadBothAsync(host);

        Assert.Equal(["c1"], ConditionIds(route));
        Assert.Equal(["c1"], ConditionIds(federated));
        Assert.DoesNotContain("elsewhere.example", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ItemsOfAPatientWhoObjected_AreNotServedWhateverTheirReferenceKind()
    {
        AnswerConditionSearch(SearchSet(
            ($"{_acute.BaseUrl}/Condition/c1", Condition("c1", NhsRef(Nhs))),
            ($"{_acute.BaseUrl}/Condition/c2", Condition("c2", Ref($"{Origin}/Patient/pas-1")))));
        using var host = new GatewayHost(_issuer, [_acute], registry => registry.Objections.Add(new() { NhsNumber = Nhs, RecordedOn = new DateOnly(2026, 3, 5), RecordedBy = "reception" }));
        var client = host.CreateClient(_issuer.CreateToken());
        var before = _acute.RequestedPaths.Count(p => p.StartsWith("/fhir/Condition", StringComparison.Ordinal));

        using var search = await client.GetAsync("/sources/RBL/fhir/Condition?patient=pas-1");
        using var byNumber = await client.GetAsync($"/sources/RBL/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{Nhs}");

        Assert.Contains("opted out", (await FhirAssert.OutcomeAsync(search, HttpStatusCode.Forbidden)).Text(), StringComparison.Ordinal);
        Assert.Contains("opted out", (await FhirAssert.OutcomeAsync(byNumber, HttpStatusCode.Forbidden)).Text(), StringComparison.Ordinal);
        Assert.Equal(before, _acute.RequestedPaths.Count(p => p.StartsWith("/fhir/Condition", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ElementsOrSummary_AreRefusedSoLabelsCannotBeHidden()
    {
        using var host = new GatewayHost(_issuer, [_acute]);
        var client = host.CreateClient(_issuer.CreateToken());

        using var elements = await client.GetAsync("/sources/RBL/fhir/Condition?patient=pas-1&_elements=code");
        using var summary = await client.GetAsync("/sources/RBL/fhir/Condition?patient=pas-1&_summary=true");

        Assert.Contains("'_elements'", (await FhirAssert.OutcomeAsync(elements, HttpStatusCode.BadRequest)).Text(), StringComparison.Ordinal);
        Assert.Contains("'_summary'", (await FhirAssert.OutcomeAsync(summary, HttpStatusCode.BadRequest)).Text(), StringComparison.Ordinal);
        Assert.DoesNotContain(_acute.RequestedPaths, p => p.StartsWith("/fhir/Condition", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FortyMegabyteAnswer_IsCutOffAtTheCapOnBothRoutes()
    {
        // A valid-looking Bundle whose one Condition carries 40 MB of note text.
        var head = SearchSet(($"{_acute.BaseUrl}/Condition/c1", Condition("c1", Ref("Patient/pas-1")))).ToJsonString();
        var cut = head.LastIndexOf("]}", StringComparison.Ordinal);
        var body = new StringBuilder(head[..cut]).Append(",\"padding\":\"").Append('x', 40 * 1024 * 1024).Append("\"}").ToString();
        _acute.Server.Given(Request.Create().UsingGet().WithPath("/fhir/Condition").WithParam("patient", "pas-1")).AtPriority(0)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/fhir+json").WithBody(body));
        // A generous source timeout: WireMock writing 40 MB on a loaded machine can take longer than the default, and
        // this test is about the size cap, not the clock.
        using var host = new GatewayHost(
            _issuer,
            [_acute],
            registry => registry.Organisations.Single(o => o.OdsCode == "RBL").TimeoutSeconds = 120,
            settings: new() { ["Federation:MaxSourceResponseBytes"] = (8 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var client = host.CreateClient(_issuer.CreateToken());

        using var route = await client.GetAsync("/sources/RBL/fhir/Condition?patient=pas-1");
        using var federated = await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");

        Assert.Contains("answered with more than", (await FhirAssert.OutcomeAsync(route, HttpStatusCode.BadGateway)).Text(), StringComparison.Ordinal);
        Assert.True((await route.Content.ReadAsByteArrayAsync()).Length < 64 * 1024);
        // RBL is the only source: nothing can be returned, and the answer says why.
        Assert.Contains("answered with more than", (await FhirAssert.OutcomeAsync(federated, HttpStatusCode.BadGateway)).Text(), StringComparison.Ordinal);
        Assert.True((await federated.Content.ReadAsByteArrayAsync()).Length < 64 * 1024);
        Assert.Contains(host.AuditEvents(), e => e.Entity.Any(x => x.What?.Identifier?.Value == "RBL" && x.Description == "unreadable"));
    }

    [Fact]
    public async Task HungSource_TheSourcesOwnTimeoutApplies()
    {
        _acute.Server.Given(Request.Create().UsingGet().WithPath("/fhir/Condition").WithParam("patient", "pas-1")).AtPriority(0)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/fhir+json").WithBody("{}").WithDelay(TimeSpan.FromSeconds(60)));
        using var host = new GatewayHost(_issuer, [_acute], registry => registry.Organisations.Single(o => o.OdsCode == "RBL").TimeoutSeconds = 1);
        var client = host.CreateClient(_issuer.CreateToken());
        var started = DateTime.UtcNow;

        using var route = await client.GetAsync("/sources/RBL/fhir/Condition?patient=pas-1");

        Assert.Contains("did not answer in time", (await FhirAssert.OutcomeAsync(route, HttpStatusCode.GatewayTimeout)).Text(), StringComparison.Ordinal);
        // Generous: the point is that the 60 s hang and the host's 5 s default are not what bounds the wait.
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20));
        Assert.Contains(host.AuditEvents(), e => e.Entity.Any(x => x.What?.Identifier?.Value == "RBL" && x.Description == "timed-out"));
    }

    [Fact]
    public async Task SearchWhoseItemsNameManyPatients_CostsABoundedNumberOfLookUps()
    {
        var entries = Enumerable.Range(1, 300).Select(i => ($"{_acute.BaseUrl}/Condition/c{i}", Condition($"c{i}", Ref($"Patient/pas-x{i}")))).ToArray();
        AnswerConditionSearch(SearchSet([.. entries, ($"{_acute.BaseUrl}/Condition/mine", Condition("mine", Ref("Patient/pas-1")))]));
        using var host = new GatewayHost(_issuer, [_acute]);
        var client = host.CreateClient(_issuer.CreateToken());

        var route = await FhirAssert.ReadAsync<Bundle>(await client.GetAsync("/sources/RBL/fhir/Condition?patient=pas-1"), HttpStatusCode.OK);
        var routeRequests = _acute.RequestedPaths.Count;
        var federated = await FhirAssert.ReadAsync<Bundle>(await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}"), HttpStatusCode.OK);

        Assert.Equal(["mine"], ConditionIds(route));
        Assert.Equal(["mine"], ConditionIds(federated));
        Assert.DoesNotContain(_acute.RequestedPaths, p => p.Contains("pas-x", StringComparison.Ordinal));
        // The route: one Patient read, one NHS number search to corroborate, the search itself.
        Assert.True(routeRequests <= 3, string.Join(", ", _acute.RequestedPaths.Take(routeRequests)));
    }

    public void Dispose()
    {
        _acute.Dispose();
        _issuer.Dispose();
    }
}
