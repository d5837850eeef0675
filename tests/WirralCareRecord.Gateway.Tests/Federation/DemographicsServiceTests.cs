using System.Diagnostics;
using System.Net;
using Hl7.Fhir.Model;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.PatientMatching;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Federation;

/// <summary>
/// The locator's optional demographics service, answering as NHS England's PDS FHIR API does (its sandbox responses, in
/// Fixtures/pds): the practice it names as the registered GP is asked even when the locator did not know it.
/// </summary>
public sealed class DemographicsServiceTests : IDisposable
{
    private const string Nhs = "9000000009";
    private const string PdsBase = "/personal-demographics/FHIR/R4";
    private readonly TestIssuer _issuer = new();
    private readonly WireMockServer _pds = WireMockServer.Start();
    private readonly FhirSource _pdsPractice = new("Y12345", "The practice PDS names", OrganisationKind.GpPractice);
    private readonly FhirSource _otherGp = new("N85003", "Moreton Health Clinic", OrganisationKind.GpPractice);
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);

    private static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "pds", name));

    private GatewayHost Host(string lookup) => new(_issuer, [_pdsPractice, _otherGp, _acute], settings: new()
    {
        ["Locator:DemographicsServiceUrl"] = _pds.Url + PdsBase,
        ["Locator:DemographicsServiceLookup"] = lookup,
        // Ask on every read, so the test need not wait a day.
        ["Locator:DemographicsRefreshAfter"] = "00:00:00",
    });

    private void PdsAnswers(string lookup)
    {
        var request = lookup == "Read"
            ? Request.Create().UsingGet().WithPath($"{PdsBase}/Patient/{Nhs}")
            : Request.Create().UsingGet().WithPath($"{PdsBase}/Patient").WithParam("identifier", $"{NhsNumber.System}|{Nhs}");
        _pds.Given(request).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/fhir+json")
            .WithBody(Fixture(lookup == "Read" ? "pds-Patient.json" : "pds-PatientSearch.json")));
    }

    [Theory]
    [InlineData("Read")]
    [InlineData("Search")]
    public async Task GetRecord_PracticeThatPdsNamesAsTheGp_IsAskedThoughTheLocatorDidNotKnowIt(string lookup)
    {
        _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Encounter("e1", "pas-1"));
        using var host = Host(lookup);
        var client = host.CreateClient(_issuer.CreateToken());
        // The first read is a sweep: Y12345 does not hold the patient yet and says so.
        await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");
        PdsAnswers(lookup);
        _pdsPractice.WithPatient(FhirSource.NewPatient("y-1", Nhs), ClinicalData.Condition("c1", "y-1"));
        var otherGpCalls = _otherGp.DataRequests.Count;

        var bundle = await FhirAssert.ReadAsync<Bundle>(await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}"), HttpStatusCode.OK);

        Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "c1" });
        Assert.Contains(bundle.SourceOutcomes()!.Issue, i => i.Diagnostics.Contains("The record locator chose which organisations to ask: 2 of the 3", StringComparison.Ordinal));
        Assert.Equal(otherGpCalls, _otherGp.DataRequests.Count);
        Assert.Contains(_pds.LogEntries, e => e.RequestMessage!.Path.StartsWith(PdsBase + "/Patient", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetRecord_PdsReadByNhsNumberInThePath_PutsTheNumberInNoSpanAndNoLog()
    {
        PdsAnswers("Read");
        _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Encounter("e1", "pas-1"));
        using var host = Host("Read");
        var traceId = ActivityTraceId.CreateRandom();
        var caller = ActivitySpanId.CreateRandom();
        var client = host.CreateClient(_issuer.CreateToken());
        client.DefaultRequestHeaders.Add("traceparent", $"00-{traceId}-{caller}-01");

        var response = await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(_pds.LogEntries, e => e.RequestMessage!.Path == $"{PdsBase}/Patient/{Nhs}");
        // WireMock runs in this process, so its own server spans (the PDS stand-in's) are collected too; the gateway's are
        // its request span (the caller's child), its internal spans and its client calls.
        var gatewaySpans = host.Spans.Snapshot()
            .Where(s => s.TraceId == traceId && (s.Kind != ActivityKind.Server || s.ParentSpanId == caller))
            .SelectMany(s => s.TagObjects.Select(t => $"{t.Key}={t.Value}").Append(s.DisplayName))
            .ToList();
        Assert.NotEmpty(gatewaySpans);
        Assert.DoesNotContain(gatewaySpans, text => text.Contains(Nhs, StringComparison.Ordinal));
        Assert.DoesNotContain(host.Logs.Lines, line => line.Contains(Nhs, StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetRecord_PdsFailing_StillAnswersFromTheSources()
    {
        _pds.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(503).WithHeader("Content-Type", FhirJson.ContentType).WithBody("{}"));
        _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Encounter("e1", "pas-1"));
        using var host = Host("Read");

        var bundle = await FhirAssert.ReadAsync<Bundle>(await host.CreateClient(_issuer.CreateToken()).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}"), HttpStatusCode.OK);

        Assert.Contains(bundle.Entry, e => e.Resource is Encounter { Id: "e1" });
        Assert.Contains(host.Logs.Lines, line => line.Contains("Demographics service could not be used", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        _pds.Stop();
        _pds.Dispose();
        _pdsPractice.Dispose();
        _otherGp.Dispose();
        _acute.Dispose();
        _issuer.Dispose();
    }
}
