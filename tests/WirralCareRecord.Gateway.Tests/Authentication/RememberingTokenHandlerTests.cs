using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Authentication;

/// <summary>
/// A token validated in full is accepted again for a few minutes without its signature being checked again: never past
/// its own expiry, never for a token that failed, and never sharing one request's identity with another's.
/// </summary>
public sealed class RememberingTokenHandlerTests : IDisposable
{
    private const string Issuer = "https://issuer.test";
    private const string Audience = "api://gateway";
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly ShiftedTimeProvider _time = new();

    [Fact]
    public async Task AValidToken_IsAcceptedAgainUntilKeptForEnds_ThenCheckedInFull()
    {
        // Arrange: a token valid for an hour. The second and third checks are given parameters it would fail (another
        // audience), so only a remembered result can accept it.
        var handler = new RememberingTokenHandler(_time);
        var token = Token(TimeSpan.FromHours(1));
        var wrongAudience = Parameters(audience: "api://someone-else");

        // Act
        var first = await handler.ValidateTokenAsync(token, Parameters());
        var again = await handler.ValidateTokenAsync(token, wrongAudience);
        _time.Offset = RememberingTokenHandler.KeptFor + TimeSpan.FromSeconds(1);
        var later = await handler.ValidateTokenAsync(token, wrongAudience);

        // Assert
        Assert.True(first.IsValid, first.Exception?.Message);
        Assert.True(again.IsValid);
        Assert.Equal("clinician-1", again.ClaimsIdentity.FindFirst("sub")?.Value);
        Assert.False(later.IsValid);
    }

    [Fact]
    public async Task ATokenExpiringSooner_IsNotRememberedPastItsExpiry()
    {
        // Arrange: a token with two minutes left.
        var handler = new RememberingTokenHandler(_time);
        var token = Token(TimeSpan.FromMinutes(2));
        Assert.True((await handler.ValidateTokenAsync(token, Parameters())).IsValid);

        // Act: three minutes on, checked with parameters it would fail, so only a remembered result could accept it.
        _time.Offset = TimeSpan.FromMinutes(3);
        var later = await handler.ValidateTokenAsync(token, Parameters(audience: "api://someone-else"));

        // Assert
        Assert.False(later.IsValid);
    }

    [Fact]
    public async Task AFailedToken_IsNotRemembered_AndEachRequestGetsItsOwnIdentity()
    {
        // Arrange
        var handler = new RememberingTokenHandler(_time);
        var token = Token(TimeSpan.FromHours(1));

        // Act: refused first (wrong audience), then checked properly; then one request adds a claim to its identity.
        var refused = await handler.ValidateTokenAsync(token, Parameters(audience: "api://someone-else"));
        var accepted = await handler.ValidateTokenAsync(token, Parameters());
        accepted.ClaimsIdentity.AddClaim(new Claim("added-by-one-request", "x"));
        var next = await handler.ValidateTokenAsync(token, Parameters());
        var tampered = await handler.ValidateTokenAsync(token[..^4] + "AAAA", Parameters());

        // Assert
        Assert.False(refused.IsValid);
        Assert.True(accepted.IsValid);
        Assert.True(next.IsValid);
        Assert.NotSame(accepted.ClaimsIdentity, next.ClaimsIdentity);
        Assert.Null(next.ClaimsIdentity.FindFirst("added-by-one-request"));
        Assert.False(tampered.IsValid);
    }

    public void Dispose() => _rsa.Dispose();

    private string Token(TimeSpan lifetime)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            Subject = new ClaimsIdentity([new Claim("sub", "clinician-1"), new Claim("roles", "Clinician")]),
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(_rsa), SecurityAlgorithms.RsaSha256),
        });
    }

    private TokenValidationParameters Parameters(string audience = Audience) => new()
    {
        ValidIssuer = Issuer,
        ValidAudience = audience,
        IssuerSigningKey = new RsaSecurityKey(_rsa.ExportParameters(false)),
        // The handler's own lifetime check runs on the real clock; these tests move only the handler's.
        ClockSkew = TimeSpan.Zero,
    };
}
