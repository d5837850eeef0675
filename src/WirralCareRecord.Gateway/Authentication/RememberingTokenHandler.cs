using System.Collections.Concurrent;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace WirralCareRecord.Gateway.Authentication;

/// <summary>
/// The JWT handler both sign-in schemes use: a token it has validated in full is accepted again, for the next few
/// minutes and never past its own expiry, without checking its signature again.
/// </summary>
/// <remarks>
/// A client sends the same access token on every call for as long as it lasts, and checking its RSA signature was the
/// largest single cost of a call on the source route (7 % of the process's time in the proxy benchmark's profile). Only
/// valid results are kept, by the exact token text; each request gets its own copy of the identity, so claims one
/// request adds are not another's. <see cref="KeptFor"/> bounds how long a token stays accepted after a signing key is
/// withdrawn from the issuer's metadata: JWTs cannot be revoked before they expire anyway, and five minutes is the
/// clock skew the handler allows by default. The cache is cleared, not grown, past <see cref="Capacity"/> tokens.
/// </remarks>
internal sealed class RememberingTokenHandler(TimeProvider time) : JsonWebTokenHandler
{
    public static readonly TimeSpan KeptFor = TimeSpan.FromMinutes(5);
    public const int Capacity = 4096;

    private readonly ConcurrentDictionary<string, (TokenValidationResult Result, DateTimeOffset Until)> _valid = new(StringComparer.Ordinal);

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        var now = time.GetUtcNow();
        if (token is not null && _valid.TryGetValue(token, out var kept))
        {
            if (now < kept.Until)
            {
                return Copy(kept.Result);
            }

            _valid.TryRemove(token, out _);
        }

        var result = await base.ValidateTokenAsync(token, validationParameters).ConfigureAwait(false);
        if (token is not null && result.IsValid && result.SecurityToken is JsonWebToken validated)
        {
            var until = now + KeptFor;
            if (validated.ValidTo != DateTime.MinValue && validated.ValidTo < until.UtcDateTime)
            {
                until = new DateTimeOffset(validated.ValidTo, TimeSpan.Zero);
            }

            if (_valid.Count >= Capacity)
            {
                _valid.Clear();
            }

            _valid[token] = (result, until);
            return Copy(result);
        }

        return result;
    }

    private static TokenValidationResult Copy(TokenValidationResult result) => new()
    {
        IsValid = true,
        ClaimsIdentity = result.ClaimsIdentity.Clone(),
        SecurityToken = result.SecurityToken,
        Issuer = result.Issuer,
        TokenType = result.TokenType,
        TokenContext = result.TokenContext,
    };
}
