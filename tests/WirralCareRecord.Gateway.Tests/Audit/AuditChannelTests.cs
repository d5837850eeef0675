using System.Net;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Audit;

/// <summary>Every access records how the record was reached; an API call with a bearer token is the local system's.</summary>
public sealed class AuditChannelTests : IDisposable
{
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _source = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);

    [Fact]
    public async Task FederatedRead_WithBearerToken_IsAuditedAsLocalSystem()
    {
        _source.WithPatient(FhirSource.NewPatient("rbl-1", "9000000009"), ClinicalData.Allergy("rbl-1-allergy", "rbl-1"));
        using var host = new GatewayHost(_issuer, [_source]);
        using var client = host.CreateClient(_issuer.CreateToken(extraClaims: new Dictionary<string, object> { ["wcr_channel"] = "context-launch" }));

        var response = await client.GetAsync(new Uri("/fhir/Patient/$wcr-getrecord?patientNHSNumber=9000000009", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = host.AuditEvents();
        var read = events[^1];
        // A claim in the token cannot change the channel: it comes from how the caller authenticated.
        Assert.Equal("local-system", read.Entity.SelectMany(e => e.Detail).Single(d => d.Type == AuditEventFactory.ChannelDetail).Value is FhirString s ? s.Value : null);
    }

    public void Dispose()
    {
        _source.Dispose();
        _issuer.Dispose();
    }
}
