using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace WirralCareRecord.Gateway.Authentication;

/// <summary>
/// A token issuer for Development only: it signs with a key made at start-up, so its tokens die with the process
/// and can never be valid anywhere else. Never registered outside Development.
/// </summary>
public sealed class DevelopmentIssuer(IOptions<GatewayAuthenticationOptions> options, TimeProvider time) : IDisposable
{
    public const string Scheme = "DevelopmentIssuer";
    public const string Issuer = "https://development-issuer.wirralcarerecord.invalid";

    private readonly RSA _rsa = RSA.Create(2048);
    private RsaSecurityKey? _key;

    public SecurityKey SigningKey => _key ??= new RsaSecurityKey(_rsa) { KeyId = "wcr-development" };

    public string Audience => options.Value.DevelopmentAudience;

    public string CreateToken(string role, string odsCode, string userId, string name, string purpose, TimeSpan lifetime)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.Add(lifetime),
            SigningCredentials = new SigningCredentials(SigningKey, SecurityAlgorithms.RsaSha256),
            Claims = new Dictionary<string, object>
            {
                ["sub"] = userId,
                ["oid"] = userId,
                ["name"] = name,
                ["roles"] = new[] { role },
                [options.Value.OdsClaimType] = odsCode,
                [options.Value.PurposeClaimType] = purpose,
            },
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    public void Dispose() => _rsa.Dispose();

}
