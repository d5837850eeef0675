using System.Net;
using System.Security.Cryptography.X509Certificates;
using Hl7.Fhir.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Federation;

/// <summary>The gateway authenticating to sources as the registry says: OAuth 2.0 client credentials, or mutual TLS.</summary>
public sealed class SourceAuthenticationTests : IDisposable
{
    private const string Nhs = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly WireMockServer _tokenEndpoint = WireMockServer.Start();

    private static string RecordUrl => $"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}";

    [Fact]
    public async Task Client_credentials_token_is_fetched_once_and_sent_on_federated_and_proxied_reads()
    {
        _tokenEndpoint.Given(Request.Create().UsingPost().WithPath("/oauth2/token"))
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                .WithBody("""{ "access_token": "tok-rbl-1", "token_type": "Bearer", "expires_in": 3600 }"""));
        using var acute = new FhirSource("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust)
            .WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Encounter("e1", "pas-1"))
            .WithRead(ClinicalData.Encounter("e1", "pas-1"))
            .RequireBearer("tok-rbl-1");
        using var host = new GatewayHost(_issuer, [acute],
            editRegistry: r => r.Organisations[0].Authentication = new SourceAuthentication(
                SourceAuthenticationMode.ClientCredentials, new Uri(_tokenEndpoint.Url + "/oauth2/token"), "wcr-gateway", "system/*.read", SecretName: "rbl"),
            settings: new() { ["SourceSecrets:rbl"] = "s3cret-from-key-vault" });
        var clinician = host.CreateClient(_issuer.CreateToken());

        var first = await FhirAssert.ReadAsync<Bundle>(await clinician.GetAsync(RecordUrl), HttpStatusCode.OK);
        var second = await FhirAssert.ReadAsync<Bundle>(await clinician.GetAsync(RecordUrl), HttpStatusCode.OK);
        using var proxied = await clinician.GetAsync("/sources/RBL/fhir/Encounter/e1");

        Assert.Contains(first.Entry, e => e.Resource is Encounter { Id: "e1" });
        Assert.Contains(second.Entry, e => e.Resource is Encounter { Id: "e1" });
        Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);
        var tokenRequest = Assert.Single(_tokenEndpoint.LogEntries).RequestMessage!;
        Assert.Contains("grant_type=client_credentials", tokenRequest.Body, StringComparison.Ordinal);
        Assert.Contains("client_id=wcr-gateway", tokenRequest.Body, StringComparison.Ordinal);
        Assert.Contains("client_secret=s3cret-from-key-vault", tokenRequest.Body, StringComparison.Ordinal);
        Assert.Contains("scope=system%2F%2A.read", tokenRequest.Body, StringComparison.Ordinal);
        Assert.All(acute.DataRequests, e => Assert.Equal("Bearer tok-rbl-1", e.RequestMessage!.Headers!["Authorization"].Single()));
    }

    [Fact]
    public async Task A_refused_token_request_fails_that_source_only_and_says_so()
    {
        _tokenEndpoint.Given(Request.Create().UsingPost().WithPath("/oauth2/token")).RespondWith(Response.Create().WithStatusCode(401));
        using var acute = new FhirSource("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust)
            .WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Encounter("e1", "pas-1")).RequireBearer("tok-rbl-1");
        using var gp = new FhirSource("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice)
            .WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));
        using var host = new GatewayHost(_issuer, [acute, gp],
            editRegistry: r => r.Organisations[0].Authentication = new SourceAuthentication(
                SourceAuthenticationMode.ClientCredentials, new Uri(_tokenEndpoint.Url + "/oauth2/token"), "wcr-gateway", SecretName: "rbl"),
            settings: new() { ["SourceSecrets:rbl"] = "wrong" });

        var bundle = await FhirAssert.ReadAsync<Bundle>(await host.CreateClient(_issuer.CreateToken()).GetAsync(RecordUrl), HttpStatusCode.OK);

        Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "c1" });
        var issue = Assert.Single(bundle.SourceIssues());
        Assert.Contains("refused the gateway's client credentials", issue.Diagnostics, StringComparison.Ordinal);
        Assert.Empty(acute.DataRequests);
    }

    [Fact]
    public async Task Mutual_TLS_presents_the_registry_named_certificate_and_a_source_without_it_cannot_connect()
    {
        using var certificate = TestCertificates.Create("CN=wirral-care-record-gateway", TestCertificates.ClientAuthentication);
        using var serverCertificate = TestCertificates.Create("CN=localhost", TestCertificates.ServerAuthentication);
        var settings = new WireMockServerSettings
        {
            UseSSL = true,
            CertificateSettings = new WireMockCertificateSettings { X509Certificate = serverCertificate },
            ClientCertificateMode = WireMock.Types.ClientCertificateMode.RequireCertificate,
            AcceptAnyClientCertificate = true,
        };
        using var withCertificate = new FhirSource("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust, settings)
            .WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Encounter("e1", "pas-1"));
        using var withoutCertificate = new FhirSource("RY7", "Wirral Community Health and Care", OrganisationKind.CommunityTrust, settings)
            .WithPatient(FhirSource.NewPatient("com-1", Nhs), ClinicalData.Encounter("e2", "com-1"));
        using var host = new GatewayHost(_issuer, [withCertificate, withoutCertificate],
            editRegistry: r => r.Organisations.Single(o => o.OdsCode == "RBL").Authentication = new SourceAuthentication(SourceAuthenticationMode.MutualTls, CertificateName: "rbl-client"),
            settings: new() { ["SourceCertificates:rbl-client"] = Convert.ToBase64String(certificate.Export(X509ContentType.Pkcs12)) },
            services: TrustWireMockServerCertificate);

        var bundle = await FhirAssert.ReadAsync<Bundle>(await host.CreateClient(_issuer.CreateToken()).GetAsync(RecordUrl), HttpStatusCode.OK);

        Assert.Contains(bundle.Entry, e => e.Resource is Encounter { Id: "e1" });
        Assert.DoesNotContain(bundle.Entry, e => e.Resource is Encounter { Id: "e2" });
        Assert.Contains(bundle.SourceIssues(), i => i.Diagnostics.Contains("Wirral Community Health and Care", StringComparison.Ordinal));
        Assert.NotEmpty(withCertificate.DataRequests);
        Assert.Empty(withoutCertificate.DataRequests);
    }

    /// <summary>Test-only: WireMock serves https with its own self-signed certificate, which production would rightly reject.</summary>
    private static void TrustWireMockServerCertificate(IServiceCollection services) =>
        services.ConfigureAll<HttpClientFactoryOptions>(options => options.HttpMessageHandlerBuilderActions.Add(builder =>
        {
            if (builder.PrimaryHandler is SocketsHttpHandler handler)
            {
                handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null;
            }
        }));

    public void Dispose()
    {
        _tokenEndpoint.Stop();
        _tokenEndpoint.Dispose();
        _issuer.Dispose();
    }
}
