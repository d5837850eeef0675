namespace WirralCareRecord.Gateway.Federation;

/// <summary>How the gateway proves who it is to a source system.</summary>
public enum SourceAuthenticationMode
{
    /// <summary>Nothing: Development and test rigs only; Production refuses it.</summary>
    None,

    /// <summary>OAuth 2.0 client credentials: a bearer token from the source's token endpoint, cached until it expires.</summary>
    ClientCredentials,

    /// <summary>Mutual TLS: the gateway presents a client certificate when it connects.</summary>
    MutualTls,
}

/// <summary>
/// One organisation's outbound authentication, kept in the registry. Secrets are never in the registry: it names them,
/// and they come from configuration (<c>SourceSecrets:{name}</c>, <c>SourceCertificates:{name}</c>), which Key Vault fills.
/// </summary>
/// <param name="SecretName">For client credentials: the configuration key under <c>SourceSecrets</c> holding the client secret.</param>
/// <param name="CertificateName">For mutual TLS: the key under <c>SourceCertificates</c> holding the certificate as base64 PKCS#12.</param>
public sealed record SourceAuthentication(
    SourceAuthenticationMode Mode,
    Uri? TokenEndpoint = null,
    string? ClientId = null,
    string? Scope = null,
    string? SecretName = null,
    string? CertificateName = null)
{
    public static SourceAuthentication None { get; } = new(SourceAuthenticationMode.None);

    /// <summary>What is wrong with this configuration, or an empty list.</summary>
    public IReadOnlyList<string> Problems() => Mode switch
    {
        SourceAuthenticationMode.ClientCredentials => [.. new[]
        {
            TokenEndpoint is { IsAbsoluteUri: true } ? null : "authentication.tokenEndpoint must be an absolute URL for client credentials.",
            string.IsNullOrWhiteSpace(ClientId) ? "authentication.clientId is required for client credentials." : null,
            string.IsNullOrWhiteSpace(SecretName) ? "authentication.secretName (the SourceSecrets key holding the client secret) is required for client credentials." : null,
        }.OfType<string>()],
        SourceAuthenticationMode.MutualTls => string.IsNullOrWhiteSpace(CertificateName)
            ? ["authentication.certificateName (the SourceCertificates key holding the client certificate) is required for mutual TLS."]
            : [],
        _ => [],
    };
}
