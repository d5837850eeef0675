using System.Net;
using System.Net.Http.Json;
using Hl7.Fhir.Model;
using Microsoft.Extensions.DependencyInjection;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Authentication;

public sealed class SignInTests : IDisposable
{
    private const string RecordUrl = "/fhir/Patient/$wcr-getrecord?patientNHSNumber=9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);

    public static TheoryData<string, string> SpoiledTokens => new()
    {
        { "expired", "expired" },
        { "wrong audience", "audience" },
        { "wrong issuer", "issuer" },
        { "bad signature", "signature" },
    };

    private string Spoil(string how) => how switch
    {
        "expired" => _issuer.CreateToken(expires: DateTime.UtcNow.AddHours(-2)),
        "audience" => _issuer.CreateToken(audience: "api://some-other-api"),
        "issuer" => _issuer.CreateToken(issuer: "https://login.microsoftonline.com/another-tenant/v2.0"),
        "signature" => _issuer.CreateToken(signWithOtherKey: true),
        _ => throw new ArgumentOutOfRangeException(nameof(how)),
    };

    [Fact]
    public async Task GetRecord_NoToken_Returns401OperationOutcomeAndIsAudited()
    {
        using var host = new GatewayHost(_issuer, [_gp]);

        var response = await host.CreateClient(token: null).GetAsync(RecordUrl);

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal(OperationOutcome.IssueType.Login, outcome.Issue.Single().Code);
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        var audit = Assert.Single(host.AuditEvents());
        Assert.Equal(AuditEvent.AuditEventOutcome.N4, audit.Outcome);
        Assert.Empty(_gp.RequestedPaths);
    }

    [Theory]
    [MemberData(nameof(SpoiledTokens))]
    public async Task GetRecord_SpoiledToken_Returns401(string description, string how)
    {
        using var host = new GatewayHost(_issuer, [_gp]);

        var response = await host.CreateClient(Spoil(how)).GetAsync(RecordUrl);

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.Unauthorized);
        Assert.True(outcome.Issue.Single().Code == OperationOutcome.IssueType.Login, description);
        Assert.Empty(_gp.RequestedPaths);
    }

    [Fact]
    public async Task GetRecord_ValidTokenOfTheTestIssuer_IsAccepted()
    {
        // The positive control for the refusals above: the same issuer, unspoiled, gets through.
        _gp.WithPatient(FhirSource.NewPatient("gp-1", "9000000009"));
        using var host = new GatewayHost(_issuer, [_gp]);

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync(RecordUrl);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task GetRecord_SameTokenTwice_AcceptedBothTimes_ByTheRememberingHandler()
    {
        // The Entra scheme validates through the handler that remembers validated tokens, with Entra's claim names kept.
        _gp.WithPatient(FhirSource.NewPatient("gp-1", "9000000009"));
        using var host = new GatewayHost(_issuer, [_gp]);
        var token = _issuer.CreateToken();
        var client = host.CreateClient(token);

        var first = await client.GetAsync(RecordUrl);
        var second = await client.GetAsync(RecordUrl);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var options = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerOptions>>().Get(Gateway.Authentication.AuthenticationFeature.EntraScheme);
        var handler = Assert.IsType<Gateway.Authentication.RememberingTokenHandler>(Assert.Single(options.TokenHandlers));
        Assert.False(handler.MapInboundClaims);
    }

    [Fact]
    public async Task GetRecord_WrongRole_Returns403SayingWhichRole()
    {
        using var host = new GatewayHost(_issuer, [_gp]);

        var response = await host.CreateClient(_issuer.CreateToken(role: "Auditor")).GetAsync(RecordUrl);

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains("Clinician role", outcome.Text(), StringComparison.Ordinal);
        Assert.Equal(AuditEvent.AuditEventOutcome.N4, Assert.Single(host.AuditEvents()).Outcome);
    }

    [Fact]
    public async Task GetRecord_NoRoleAtAll_IsRefused()
    {
        using var host = new GatewayHost(_issuer, [_gp]);

        var response = await host.CreateClient(_issuer.CreateToken(role: null)).GetAsync(RecordUrl);

        Assert.Contains(response.StatusCode, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden });
        await FhirAssert.OutcomeAsync(response, response.StatusCode);
        Assert.Empty(_gp.RequestedPaths);
    }

    [Fact]
    public async Task GetRecord_CallersOrganisationHasNoActiveAgreement_Returns403()
    {
        using var host = new GatewayHost(_issuer, [_gp], registry => registry.Organisations.Add(new()
        {
            OdsCode = "N85099", Name = "Unsigned practice", Kind = OrganisationKind.GpPractice, FhirBaseUrl = "http://127.0.0.1:9/fhir", State = LifecycleState.Registered,
        }));

        var response = await host.CreateClient(_issuer.CreateToken(ods: "N85099")).GetAsync(RecordUrl);

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains("N85099 has no data sharing agreement", outcome.Text(), StringComparison.Ordinal);
        Assert.Empty(_gp.RequestedPaths);
    }

    [Fact]
    public async Task GetRecord_TokenWithoutOdsCode_Returns403()
    {
        using var host = new GatewayHost(_issuer, [_gp]);

        var response = await host.CreateClient(_issuer.CreateToken(ods: null)).GetAsync(RecordUrl);

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains("ODS code", outcome.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DevToken_OutsideDevelopment_DoesNotExist()
    {
        using var host = new GatewayHost(_issuer, [_gp]);

        var response = await host.CreateClient(token: null).GetAsync("/dev/token?role=Clinician&ods=N85001");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task DevToken_InDevelopment_IssuesATokenTheGatewayAccepts()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", "9000000009"));
        using var host = new GatewayHost(_issuer, [_gp], environment: "Development");
        var anonymous = host.CreateClient(token: null);

        var token = await anonymous.GetFromJsonAsync<Dictionary<string, object>>("/dev/token?role=Clinician&ods=N85001");
        var response = await host.CreateClient(token!["access_token"].ToString()).GetAsync(RecordUrl);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task DevToken_FromDevelopmentGateway_IsRefusedByAProductionGateway()
    {
        using var development = new GatewayHost(_issuer, [_gp], environment: "Development");
        var token = await development.CreateClient(token: null).GetStringAsync("/dev/token?role=Clinician&ods=N85001&format=jwt");
        using var production = new GatewayHost(_issuer, [_gp], environment: "Production", settings: await ProductionSettings.SafeAsync(), editRegistry: ProductionSettings.SecureSources);

        var response = await production.CreateClient(token).GetAsync(RecordUrl);

        await FhirAssert.OutcomeAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Metadata_WithoutToken_ServesTheCapabilityStatementFromConformanceFolder()
    {
        using var host = new GatewayHost(_issuer, [_gp]);

        var response = await host.CreateClient(token: null).GetAsync("/fhir/metadata");

        var capability = await FhirAssert.ReadAsync<CapabilityStatement>(response, HttpStatusCode.OK);
        var operation = capability.Rest.Single().Resource.Single(r => r.Type == "Patient").Operation.Single();
        Assert.Equal("wcr-getrecord", operation.Name);
        var definition = await FhirAssert.ReadAsync<OperationDefinition>(await host.CreateClient(token: null).GetAsync("/fhir/OperationDefinition/wcr-getrecord"), HttpStatusCode.OK);
        Assert.Equal(operation.Definition, definition.Url);
    }

    public void Dispose()
    {
        _gp.Dispose();
        _issuer.Dispose();
    }
}
