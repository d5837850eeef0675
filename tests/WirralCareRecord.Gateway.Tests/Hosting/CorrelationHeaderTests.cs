using System.Net;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Hosting;

/// <summary>Every answer names its correlation id, so its audit record can be found from what the client saw.</summary>
public sealed class CorrelationHeaderTests : IDisposable
{
    private const string Nhs = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);

    [Fact]
    public async Task GetRecord_Served_RequestIdHeaderIsTheAuditEventsCorrelationId()
    {
        // Arrange
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        using var host = new GatewayHost(_issuer, [_gp]);
        using var client = host.CreateClient(_issuer.CreateToken());

        // Act
        var first = await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");
        var second = await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");

        // Assert
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.NotEqual(first.RequestId(), second.RequestId());
        var audited = host.AuditEvents().Select(e => e.CorrelationId()).ToList();
        Assert.Equal(1, audited.Count(id => id == first.RequestId()));
        Assert.Equal(1, audited.Count(id => id == second.RequestId()));
    }

    [Fact]
    public async Task GetRecord_Refused_RequestIdHeaderIsTheOperationOutcomesId()
    {
        // Arrange
        using var host = new GatewayHost(_issuer, [_gp]);
        using var client = host.CreateClient(_issuer.CreateToken());

        // Act
        var refused = await client.GetAsync("/fhir/Patient/$wcr-getrecord?patientNHSNumber=9000000008");

        // Assert
        var outcome = await FhirAssert.OutcomeAsync(refused, HttpStatusCode.BadRequest);
        Assert.Equal(outcome.Id, refused.RequestId());
    }

    public void Dispose()
    {
        _gp.Dispose();
        _issuer.Dispose();
    }
}
