using System.Text.Json.Serialization;

namespace WirralCareRecord.Gateway.Launch;

/// <summary>
/// What the gateway reads of a record system's <c>{iss}/.well-known/smart-configuration</c>
/// (https://hl7.org/fhir/smart-app-launch/conformance.html).
/// </summary>
internal sealed record SmartConfiguration(
    [property: JsonPropertyName("issuer")] string? Issuer,
    [property: JsonPropertyName("jwks_uri")] string? JwksUri,
    [property: JsonPropertyName("authorization_endpoint")] string? AuthorizationEndpoint,
    [property: JsonPropertyName("token_endpoint")] string? TokenEndpoint,
    [property: JsonPropertyName("capabilities")] IReadOnlyList<string>? Capabilities,
    [property: JsonPropertyName("code_challenge_methods_supported")] IReadOnlyList<string>? CodeChallengeMethods)
{
    /// <summary>Why this system cannot be launched from as the gateway needs, or null when it can.</summary>
    public string? Problem() =>
        !Uri.TryCreate(AuthorizationEndpoint, UriKind.Absolute, out _) ? "no authorization_endpoint"
        : !Uri.TryCreate(TokenEndpoint, UriKind.Absolute, out _) ? "no token_endpoint"
        : Capabilities?.Contains("launch-ehr") != true ? "capabilities lack launch-ehr"
        // SMART 2: S256 is required, and "plain" must not be used.
        : CodeChallengeMethods?.Contains("S256") != true ? "code_challenge_methods_supported lacks S256"
        : null;
}

/// <summary>The token endpoint's answer (https://hl7.org/fhir/smart-app-launch/app-launch.html#response-5).</summary>
internal sealed record SmartTokenResponse(
    [property: JsonPropertyName("access_token")] string? AccessToken,
    [property: JsonPropertyName("token_type")] string? TokenType,
    [property: JsonPropertyName("scope")] string? Scope,
    [property: JsonPropertyName("id_token")] string? IdToken,
    [property: JsonPropertyName("patient")] string? Patient);

/// <summary>What the gateway remembers between sending the browser to the record system and its coming back (a sealed, short-lived cookie).</summary>
internal sealed record PendingLaunch(
    string State,
    string Issuer,
    string OdsCode,
    string ClientId,
    string CodeVerifier,
    string Nonce,
    string RedirectUri,
    string TokenEndpoint,
    string? IdTokenIssuer,
    string? JwksUri);
