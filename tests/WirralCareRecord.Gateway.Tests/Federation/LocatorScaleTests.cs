using System.Globalization;
using System.Net;
using Hl7.Fhir.Model;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.PatientMatching;
using WirralCareRecord.Gateway.Tests.Common;
using Xunit.Abstractions;

namespace WirralCareRecord.Gateway.Tests.Federation;

/// <summary>
/// The cost of a read does not grow with the number of practices: with 10 or 60 GP practices onboarded beside the acute
/// and community trusts, a warm read contacts the practice that holds the patient and the two trusts, one call each.
/// Counts, not timings: the benchmarks (issue 7) measure latency.
/// </summary>
public sealed class LocatorScaleTests(ITestOutputHelper output) : IDisposable
{
    private const string Nhs = "9000000009";
    private const string HolderPractice = "N81007";
    private readonly TestIssuer _issuer = new();
    private readonly WireMockServer _practices = WireMockServer.Start();
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);
    private readonly FhirSource _community = new("RY7", "Wirral Community Health and Care", OrganisationKind.CommunityTrust);

    private static string Practice(int n) => "N81" + n.ToString("000", CultureInfo.InvariantCulture);

    /// <summary>Many practices on one WireMock server, each under its own base <c>/{ods}/fhir</c>, all supporting <c>_revinclude</c>.</summary>
    private void ServePractices()
    {
        var types = FederationOptions.DefaultRecordTypes;
        var capability = FhirSource.CapabilityFor(types);
        capability.Rest.Single().Resource.Single(r => r.Type == "Patient").SearchRevInclude = [.. types.Select(t => t + ":patient")];
        _practices.Given(Request.Create().UsingGet().WithPath(new WireMock.Matchers.WildcardMatcher("/*/fhir/metadata"))).AtPriority(1).RespondWith(Fhir(capability));
        _practices.Given(Request.Create().UsingGet().WithPath(new WireMock.Matchers.WildcardMatcher("/*"))).AtPriority(100)
            .RespondWith(Fhir(new Bundle { Type = Bundle.BundleType.Searchset, Total = 0 }));

        // The one practice that holds the patient answers the reverse-include search with the patient and a condition.
        var holderBase = $"{_practices.Url}/{HolderPractice}/fhir";
        var answer = new Bundle { Type = Bundle.BundleType.Searchset, Total = 1 };
        answer.Entry.Add(new Bundle.EntryComponent { FullUrl = holderBase + "/Patient/gp-1", Resource = FhirSource.NewPatient("gp-1", Nhs), Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Match } });
        answer.Entry.Add(new Bundle.EntryComponent { FullUrl = holderBase + "/Condition/c1", Resource = ClinicalData.Condition("c1", "gp-1"), Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Include } });
        _practices.Given(Request.Create().UsingGet().WithPath($"/{HolderPractice}/fhir/Patient").WithParam("identifier", $"{NhsNumber.System}|{Nhs}")).AtPriority(1).RespondWith(Fhir(answer));
    }

    private GatewayHost Host(int practices, Dictionary<string, string?>? settings = null)
    {
        ServePractices();
        foreach (var trust in new[] { _acute, _community })
        {
            trust.WithCapabilityStatement(FederationOptions.DefaultRecordTypes, FederationOptions.DefaultRecordTypes, batch: false).ServingRevInclude();
        }

        _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Encounter("e1", "pas-1"));
        return new GatewayHost(_issuer, [_acute, _community], registry =>
        {
            var codes = Enumerable.Range(1, practices).Select(Practice).ToList();
            registry.Organisations.AddRange(codes.Select(ods => new RegistryDocument.OrganisationEntry
            {
                OdsCode = ods, Name = "Practice " + ods, Kind = OrganisationKind.GpPractice, FhirBaseUrl = $"{_practices.Url}/{ods}/fhir", Phase = 1, State = LifecycleState.Live,
            }));
            registry.Agreements[0].Providers.AddRange(codes);
        }, settings);
    }

    /// <summary>Data requests per source (CapabilityStatement reads and health probes left out), by ODS code.</summary>
    private Dictionary<string, int> Calls()
    {
        var calls = _practices.LogEntries
            .Select(e => e.RequestMessage!.Path)
            .Where(p => !p.EndsWith("/metadata", StringComparison.Ordinal))
            .GroupBy(p => p.Split('/')[1])
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        calls["RBL"] = _acute.DataRequests.Count;
        calls["RY7"] = _community.DataRequests.Count;
        return calls;
    }

    private static Dictionary<string, int> Since(Dictionary<string, int> before, Dictionary<string, int> after) =>
        after.Select(kv => (kv.Key, Calls: kv.Value - before.GetValueOrDefault(kv.Key))).Where(x => x.Calls > 0).ToDictionary(x => x.Key, x => x.Calls, StringComparer.Ordinal);

    [Theory]
    [InlineData(10)]
    [InlineData(60)]
    public async Task GetRecord_ManyPractices_WarmReadContactsTheHolderAndTheTrustsOnceEach(int practices)
    {
        using var host = Host(practices);
        var client = host.CreateClient(_issuer.CreateToken());
        var url = $"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}";

        var start = Calls();
        await FhirAssert.ReadAsync<Bundle>(await client.GetAsync(url), HttpStatusCode.OK);
        var afterFirst = Calls();
        var warm = await FhirAssert.ReadAsync<Bundle>(await client.GetAsync(url), HttpStatusCode.OK);
        var afterWarm = Calls();

        var first = Since(start, afterFirst);
        var contacted = Since(afterFirst, afterWarm);
        output.WriteLine($"practices={practices} first_read_sources_contacted={first.Count} sources_contacted_per_read={contacted.Count} calls_per_source={string.Join(",", contacted.Select(kv => $"{kv.Key}:{kv.Value}"))}");
        Assert.Equal(practices + 2, first.Count);
        Assert.Equal([HolderPractice, "RBL", "RY7"], contacted.Keys.Order(StringComparer.Ordinal));
        Assert.All(contacted.Values, calls => Assert.Equal(1, calls));
        Assert.Equal([HolderPractice, "RBL"], warm.Entry.Select(e => e.Resource).OfType<Provenance>().Select(p => p.Agent.Single().Who.Identifier.Value).Order(StringComparer.Ordinal));
    }

    private static IResponseBuilder Fhir(Resource resource) =>
        Response.Create().WithStatusCode(200).WithHeader("Content-Type", FhirJson.ContentType).WithBody(FhirJson.Serialize(resource));

    public void Dispose()
    {
        _practices.Stop();
        _practices.Dispose();
        _acute.Dispose();
        _community.Dispose();
        _issuer.Dispose();
    }
}
