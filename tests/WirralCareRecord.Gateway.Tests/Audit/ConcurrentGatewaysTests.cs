using System.Net;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Audit;

/// <summary>Several gateway instances writing one audit log on one storage account, as they run behind a load balancer.</summary>
public sealed class ConcurrentGatewaysTests : IDisposable
{
    private const string Nhs = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);

    [Fact]
    public async Task ManyReads_ThroughThreeInstancesOnOneAzuriteAccount_LoseNoEventAndBreakNoChain()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        var azurite = await Azurite.InstanceAsync();
        var prefix = Azurite.NewPrefix();
        var hosts = new[] { "gw-a", "gw-b", "gw-c" }.Select(instance =>
        {
            var settings = azurite.GatewaySettings(prefix);
            settings["Audit:InstanceId"] = instance;
            return new GatewayHost(_issuer, [_gp], settings: settings);
        }).ToList();
        try
        {
            var clients = hosts.Select((h, i) => h.CreateClient(_issuer.CreateToken(userId: $"clinician-{i}"))).ToList();

            var statuses = await Task.WhenAll(Enumerable.Range(0, 90).Select(async i =>
                (await clients[i % 3].GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}")).StatusCode));

            Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
            var auditor = hosts[0].CreateClient(_issuer.CreateToken(role: "Auditor"));
            var bundle = await FhirAssert.ReadAsync<Bundle>(await auditor.GetAsync($"/audit/AuditEvent?patient={Nhs}&_count=1000"), HttpStatusCode.OK);
            Assert.Equal(90, bundle.Entry.Select(e => e.Resource.Id).Distinct().Count());
            Assert.Equal(["gw-a", "gw-b", "gw-c"], bundle.Entry.Select(e => ((AuditEvent)e.Resource!).Source.Site).Distinct().Order());
            foreach (var day in bundle.Entry.Select(e => ((AuditEvent)e.Resource!).Recorded!.Value.UtcDateTime.Date).Distinct())
            {
                var verification = await FhirAssert.OutcomeAsync(await auditor.GetAsync($"/audit/$verify?date={day:yyyy-MM-dd}"), HttpStatusCode.OK);
                Assert.True(verification.Issue.Single().Severity == OperationOutcome.IssueSeverity.Information, verification.Text());
            }
        }
        finally
        {
            foreach (var host in hosts)
            {
                host.Dispose();
            }
        }
    }

    public void Dispose()
    {
        _gp.Dispose();
        _issuer.Dispose();
    }
}
