using System.Net;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Resilience;

/// <summary>A fact that runs only when <c>WCR_SOAK=1</c>: long tests stay out of the everyday test command.</summary>
public sealed class SoakFactAttribute : FactAttribute
{
    public SoakFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("WCR_SOAK") != "1")
        {
            Skip = "A soak test: set WCR_SOAK=1 to run it (see README, Benchmarks and resilience).";
        }
    }
}

[Trait("Category", "Soak")]
public sealed class SoakTests : IDisposable
{
    private const string Nhs = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);

    /// <summary>Two minutes of concurrent reads with one source failing every read: no 500s, and every answer audited.</summary>
    [SoakFact]
    public async Task GetRecord_TwoMinutesWithAFlakySource_EveryReadAnsweredAndAudited()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Encounter("e1", "pas-1"));
        _acute.Server.Given(WireMock.RequestBuilders.Request.Create().UsingGet().WithPath("/fhir/Encounter")).AtPriority(0)
            .RespondWith(WireMock.ResponseBuilders.Response.Create().WithStatusCode(500));
        using var host = new GatewayHost(_issuer, [_gp, _acute], settings: new()
        {
            ["RateLimits:PerUserPerMinute"] = "100000",
            ["RateLimits:PerOrganisationPerMinute"] = "1000000",
            ["Federation:SourceTimeout"] = "00:00:02",
        });
        using var client = host.CreateClient(_issuer.CreateToken());
        var answered = 0;
        var until = DateTime.UtcNow.AddMinutes(2);
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            while (DateTime.UtcNow < until)
            {
                var response = await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Interlocked.Increment(ref answered);
            }
        }));

        // Every read answered 200 wrote its AuditEvent before answering.
        var audited = host.AuditEvents().Count;
        Assert.True(audited >= answered, $"{answered} reads answered, {audited} audited");
    }

    public void Dispose()
    {
        _gp.Dispose();
        _acute.Dispose();
        _issuer.Dispose();
    }
}
