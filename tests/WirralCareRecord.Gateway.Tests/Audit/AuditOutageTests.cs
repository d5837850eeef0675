using System.Net;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Audit;

/// <summary>A gateway whose audit storage is unreachable serves nothing, and serves again, audited, once it is back.</summary>
public sealed class AuditOutageTests : IDisposable
{
    private const string Nhs = "9000000009";
    private const string Snomed = "44054006";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);

    public AuditOutageTests() => _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));

    [Fact]
    public async Task GetRecord_LocalAuditStorageDownThenBack_Refuses503ThenServesAndTheChainHolds()
    {
        using var host = new GatewayHost(_issuer, [_gp]);
        var client = host.CreateClient(_issuer.CreateToken());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(RecordUrl)).StatusCode);

        HttpResponseMessage refused;
        using (host.BreakAuditStorage())
        {
            refused = await client.GetAsync(RecordUrl);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await host.CreateClient(token: null).GetAsync("/health/ready")).StatusCode);
        }

        var resumed = await client.GetAsync(RecordUrl);

        var outcome = await FhirAssert.OutcomeAsync(refused, HttpStatusCode.ServiceUnavailable);
        Assert.Contains("audit log", outcome.Text(), StringComparison.Ordinal);
        Assert.DoesNotContain(Snomed, await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var bundle = await FhirAssert.ReadAsync<Bundle>(resumed, HttpStatusCode.OK);
        Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "c1" });
        // Both served reads are in the log, the refused one is not, and the writer started a new part after the failure.
        Assert.Equal(2, host.AuditEvents().Count(e => e.Outcome == AuditEvent.AuditEventOutcome.N0));
        var verification = await FhirAssert.OutcomeAsync(
            await host.CreateClient(_issuer.CreateToken(role: "Auditor")).GetAsync($"/audit/$verify?date={DateTime.UtcNow:yyyy-MM-dd}"),
            HttpStatusCode.OK);
        Assert.Equal(OperationOutcome.IssueSeverity.Information, verification.Issue.Single().Severity);
        Assert.Equal(HttpStatusCode.OK, (await host.CreateClient(token: null).GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task GetRecord_BlobStorageUnreachable_Returns503AndServesNothing()
    {
        var azurite = await Azurite.StartPrivateAsync();
        try
        {
            var settings = azurite.GatewaySettings();
            // Refuse within seconds rather than after the storage client's half-minute of retries. Not one second: the
            // first write to a fresh Azurite (the container and the day's blob made) took longer than that once, in a
            // full parallel run, and the read that must succeed was refused.
            settings["Audit:WriteTimeout"] = "00:00:05";
            using var host = new GatewayHost(_issuer, [_gp], settings: settings);
            var client = host.CreateClient(_issuer.CreateToken());
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(RecordUrl)).StatusCode);
            Assert.Single(host.AuditEvents());

            azurite.Stop();
            var refused = await client.GetAsync(RecordUrl);

            var outcome = await FhirAssert.OutcomeAsync(refused, HttpStatusCode.ServiceUnavailable);
            Assert.Contains("audit log", outcome.Text(), StringComparison.Ordinal);
            Assert.DoesNotContain(Snomed, await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await host.CreateClient(token: null).GetAsync("/health/ready")).StatusCode);
        }
        finally
        {
            azurite.Stop();
        }
    }

    public void Dispose()
    {
        _gp.Dispose();
        _issuer.Dispose();
    }

    private static string RecordUrl => $"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}";
}
