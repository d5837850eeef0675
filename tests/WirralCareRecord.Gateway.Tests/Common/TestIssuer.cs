using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace WirralCareRecord.Gateway.Tests.Common;

/// <summary>
/// A stand-in for Microsoft Entra ID: a WireMock server serving OIDC metadata and a JWKS, and real RS256 tokens
/// signed with its key, so the gateway's Microsoft.Identity.Web validation runs for real.
/// </summary>
public sealed class TestIssuer : IDisposable
{
    public const string TenantId = "7c0a0c1e-0000-4000-8000-000000000001";
    public const string ClientId = "2b1f6f5e-0000-4000-8000-000000000002";

    private readonly RSA _rsa = RSA.Create(2048);
    private readonly RSA _otherRsa = RSA.Create(2048);

    public TestIssuer()
    {
        Server = WireMockServer.Start();
        Key = new RsaSecurityKey(_rsa) { KeyId = "test-key-1" };
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_rsa.ExportParameters(false)) { KeyId = Key.KeyId });
        var metadata = new Dictionary<string, object>
        {
            ["issuer"] = Issuer,
            ["jwks_uri"] = $"{Server.Url}/{TenantId}/discovery/v2.0/keys",
            ["authorization_endpoint"] = $"{Server.Url}/{TenantId}/oauth2/v2.0/authorize",
            ["token_endpoint"] = $"{Server.Url}/{TenantId}/oauth2/v2.0/token",
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
        };
        Server.Given(Request.Create().UsingGet().WithPath($"/{TenantId}/v2.0/.well-known/openid-configuration"))
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody(JsonSerializer.Serialize(metadata)));
        var jwks = new { keys = new[] { new { kty = jwk.Kty, use = "sig", kid = jwk.Kid, n = jwk.N, e = jwk.E, alg = "RS256" } } };
        Server.Given(Request.Create().UsingGet().WithPath($"/{TenantId}/discovery/v2.0/keys"))
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody(JsonSerializer.Serialize(jwks)));
    }

    public WireMockServer Server { get; }

    public RsaSecurityKey Key { get; }

    public string Instance => Server.Url + "/";

    public string Issuer => $"{Server.Url}/{TenantId}/v2.0";

    public string MetadataAddress => $"{Issuer}/.well-known/openid-configuration";

    /// <summary>
    /// A token for a user; every part can be spoiled to test a refusal. <paramref name="extraClaims"/> are added last
    /// and win over the defaults, for other token shapes such as NHS CIS2.
    /// </summary>
    public string CreateToken(
        string? role = "Clinician",
        string? ods = "N85001",
        string userId = "user-0001",
        string? audience = null,
        string? issuer = null,
        DateTime? expires = null,
        bool signWithOtherKey = false,
        IDictionary<string, object>? extraClaims = null)
    {
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object>
        {
            ["oid"] = userId,
            ["sub"] = userId,
            ["name"] = "Dr Test User",
            ["tid"] = TenantId,
        };
        if (role is not null)
        {
            claims["roles"] = new[] { role };
        }

        if (ods is not null)
        {
            claims["ods"] = ods;
        }

        foreach (var (type, value) in extraClaims ?? new Dictionary<string, object>())
        {
            claims[type] = value;
        }

        var key = signWithOtherKey ? new RsaSecurityKey(_otherRsa) { KeyId = Key.KeyId } : Key;
        var expiry = expires ?? now.AddHours(1);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Issuer,
            Audience = audience ?? ClientId,
            IssuedAt = expiry < now ? expiry.AddHours(-1) : now,
            NotBefore = expiry < now ? expiry.AddHours(-1) : now,
            Expires = expiry,
            Claims = claims,
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
        });
    }

    public void Dispose()
    {
        Server.Stop();
        Server.Dispose();
        _rsa.Dispose();
        _otherRsa.Dispose();
    }
}
