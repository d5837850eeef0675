using System.Security.Cryptography.X509Certificates;
using AccessToken = Azure.Core.AccessToken;
using TokenCredential = Azure.Core.TokenCredential;
using TokenRequestContext = Azure.Core.TokenRequestContext;
using Azure.Core.Pipeline;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Configuration;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Hosting;

/// <summary>
/// Secrets read from Key Vault into configuration, against a WireMock server speaking the Key Vault REST API over https
/// with its bearer challenge, as the Azure SDK's SecretClient meets it.
/// </summary>
public sealed class KeyVaultConfigurationTests : IDisposable
{
    private readonly X509Certificate2 _serverCertificate = TestCertificates.Create("CN=localhost", TestCertificates.ServerAuthentication);
    private readonly WireMockServer _vault;

    public KeyVaultConfigurationTests()
    {
        _vault = WireMockServer.Start(new WireMockServerSettings { UseSSL = true, CertificateSettings = new WireMockCertificateSettings { X509Certificate = _serverCertificate } });
        _vault.Given(Request.Create().UsingAnyMethod().WithPath(new WildcardMatcher("/secrets*")).WithHeader("Authorization", "*", MatchBehaviour.RejectOnMatch))
            .AtPriority(0)
            .RespondWith(Response.Create().WithStatusCode(401)
                .WithHeader("WWW-Authenticate", "Bearer authorization=\"https://login.microsoftonline.com/7c0a0c1e-0000-4000-8000-000000000001\", resource=\"https://vault.azure.net\""));
        _vault.Given(Request.Create().UsingGet().WithPath("/secrets/"))
            .AtPriority(1)
            .RespondWith(Json($$"""
                { "value": [
                    { "id": "{{_vault!.Url}}/secrets/Storage--BlobConnectionString", "attributes": { "enabled": true } },
                    { "id": "{{_vault.Url}}/secrets/SourceSecrets--rbl", "attributes": { "enabled": true } },
                    { "id": "{{_vault.Url}}/secrets/Retired--Secret", "attributes": { "enabled": false } } ],
                  "nextLink": null }
                """));
        Secret("Storage--BlobConnectionString", "DefaultEndpointsProtocol=https;AccountName=wcrprod;AccountKey=a2V5;EndpointSuffix=core.windows.net");
        Secret("SourceSecrets--rbl", "s3cret");
    }

    [Fact]
    public void Enabled_secrets_become_settings_with_double_dashes_as_section_separators()
    {
        var options = new SecretClientOptions
        {
            DisableChallengeResourceVerification = true,
            Transport = new HttpClientTransport(new HttpClient(new SocketsHttpHandler
            {
                SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == _serverCertificate.Thumbprint },
            })),
            Retry = { MaxRetries = 0 },
        };
        var client = new SecretClient(new Uri(_vault.Url!), new FixedToken("vault-token"), options);

        var configuration = new ConfigurationBuilder().AddKeyVaultSecrets(client).Build();

        Assert.Equal("DefaultEndpointsProtocol=https;AccountName=wcrprod;AccountKey=a2V5;EndpointSuffix=core.windows.net", configuration["Storage:BlobConnectionString"]);
        Assert.Equal("s3cret", configuration["SourceSecrets:rbl"]);
        Assert.Null(configuration["Retired:Secret"]);
        Assert.Contains(_vault.LogEntries, e => e.RequestMessage!.Headers!.TryGetValue("Authorization", out var value) && value.Single() == "Bearer vault-token");
    }

    private void Secret(string name, string value) =>
        _vault.Given(Request.Create().UsingGet().WithPath(new WildcardMatcher($"/secrets/{name}*")))
            .AtPriority(1)
            .RespondWith(Json($$"""{ "value": "{{value}}", "id": "{{_vault.Url}}/secrets/{{name}}/1", "attributes": { "enabled": true } }"""));

    private static IResponseBuilder Json(string body) => Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(body);

    public void Dispose()
    {
        _vault.Stop();
        _vault.Dispose();
        _serverCertificate.Dispose();
    }

    private sealed class FixedToken(string token) : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => new(token, DateTimeOffset.UtcNow.AddHours(1));

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) => ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
