using System.Net;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Federation;

public sealed class RateLimitTests : IDisposable
{
    private const string RecordUrl = "/fhir/Patient/$wcr-getrecord?patientNHSNumber=9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);

    [Fact]
    public async Task GetRecord_UserOverTheLimit_Returns429WithRetryAfterAndIsAudited()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", "9000000009"));
        using var host = new GatewayHost(_issuer, [_gp], settings: new() { ["RateLimits:PerUserPerMinute"] = "2" });
        var client = host.CreateClient(_issuer.CreateToken(userId: "busy-user"));

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(RecordUrl)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(RecordUrl)).StatusCode);
        var refused = await client.GetAsync(RecordUrl);
        var otherUser = await host.CreateClient(_issuer.CreateToken(userId: "another-user")).GetAsync(RecordUrl);

        var outcome = await FhirAssert.OutcomeAsync(refused, HttpStatusCode.TooManyRequests);
        Assert.Equal(OperationOutcome.IssueType.Throttled, outcome.Issue.Single().Code);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.OK, otherUser.StatusCode);
        Assert.Contains(host.AuditEvents(), e => e.OutcomeDesc.Contains("Too many record reads", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetRecord_OrganisationOverTheLimit_Returns429ForEveryUserThere()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", "9000000009"));
        using var host = new GatewayHost(_issuer, [_gp], settings: new() { ["RateLimits:PerOrganisationPerMinute"] = "1" });

        var first = await host.CreateClient(_issuer.CreateToken(userId: "u1")).GetAsync(RecordUrl);
        var second = await host.CreateClient(_issuer.CreateToken(userId: "u2")).GetAsync(RecordUrl);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        await FhirAssert.OutcomeAsync(second, HttpStatusCode.TooManyRequests);
    }

    public void Dispose()
    {
        _gp.Dispose();
        _issuer.Dispose();
    }
}
