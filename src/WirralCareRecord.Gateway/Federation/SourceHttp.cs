using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>
/// One HttpClient per source organisation, so each has its own connections: a connection opened with one
/// organisation's client certificate is never reused for another's. Bearer tokens are added per request from the
/// organisation's current registry entry.
/// </summary>
public static class SourceHttp
{
    private const string Prefix = "fhir-source:";

    public static string ClientName(string odsCode) => Prefix + odsCode.ToUpperInvariant();

    /// <summary>The HttpClient for calls to <paramref name="odsCode"/>'s FHIR endpoint.</summary>
    public static HttpClient CreateSourceClient(this IHttpClientFactory factory, string odsCode) => factory.CreateClient(ClientName(odsCode));

    internal static IServiceCollection AddSourceHttpClients(this IServiceCollection services)
    {
        services.AddSingleton<SourceCredentials>();
        services.AddHttpClient(SourceCredentials.TokenClientName, client => client.Timeout = TimeSpan.FromSeconds(10));
        services.AddSingleton<IConfigureOptions<HttpClientFactoryOptions>, ConfigureSourceClients>();
        return services;
    }

    /// <summary>
    /// Builds the handler chain for any client named <c>fhir-source:{ODS}</c>, from the registry entry at the time. It takes
    /// its services from the handler builder, not its constructor: the client factory's own options depend on it.
    /// </summary>
    private sealed class ConfigureSourceClients : IConfigureNamedOptions<HttpClientFactoryOptions>
    {
        public void Configure(HttpClientFactoryOptions options)
        {
        }

        public void Configure(string? name, HttpClientFactoryOptions options)
        {
            if (name is null || !name.StartsWith(Prefix, StringComparison.Ordinal))
            {
                return;
            }

            var odsCode = name[Prefix.Length..];

            // Handlers are rebuilt after this long, which is how a new client certificate in the registry takes effect.
            options.HandlerLifetime = TimeSpan.FromMinutes(2);
            options.HttpClientActions.Add(client =>
            {
                // Each source's own timeout is enforced by its resilience pipeline, over all its calls together.
                client.Timeout = Timeout.InfiniteTimeSpan;
                client.DefaultRequestVersion = HttpVersion.Version11;
            });
            options.HttpMessageHandlerBuilderActions.Add(builder =>
            {
                var registry = builder.Services.GetRequiredService<IOrganisationRegistry>();
                var credentials = builder.Services.GetRequiredService<SourceCredentials>();
                var handler = new SocketsHttpHandler
                {
                    PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                    MaxConnectionsPerServer = 64,
                    AllowAutoRedirect = false,
                    AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
                };
                if (registry.Current.Find(odsCode)?.Authentication is { Mode: SourceAuthenticationMode.MutualTls } mutualTls
                    && credentials.TryCertificate(odsCode, mutualTls) is { } certificate)
                {
                    handler.SslOptions.ClientCertificates = [certificate];
                }

                builder.PrimaryHandler = handler;
                builder.AdditionalHandlers.Add(new BearerTokenHandler(odsCode, registry, credentials));
            });
        }
    }

    /// <summary>Adds the organisation's client-credentials token, read from the registry on every request so a change applies at once.</summary>
    internal sealed class BearerTokenHandler(string odsCode, IOrganisationRegistry registry, SourceCredentials credentials) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (registry.Current.Find(odsCode)?.Authentication is { Mode: SourceAuthenticationMode.ClientCredentials } clientCredentials)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await credentials.TokenAsync(clientCredentials, cancellationToken));
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }
}

/// <summary>
/// The secrets behind outbound authentication: client secrets and certificates from configuration (filled from Key
/// Vault in production), and client-credentials tokens, each cached until a minute before it expires.
/// </summary>
public sealed partial class SourceCredentials(IHttpClientFactory httpClientFactory, IConfiguration configuration, TimeProvider time, ILogger<SourceCredentials> logger)
{
    internal const string TokenClientName = "source-tokens";
    private static readonly TimeSpan ExpirySkew = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, CachedToken> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _fetching = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, X509Certificate2> _certificates = new(StringComparer.Ordinal);

    /// <summary>A bearer token for <paramref name="authentication"/>, fetched once and reused until near its expiry.</summary>
    public async Task<string> TokenAsync(SourceAuthentication authentication, CancellationToken cancellationToken)
    {
        var key = $"{authentication.TokenEndpoint}|{authentication.ClientId}|{authentication.Scope}";
        if (_tokens.TryGetValue(key, out var cached) && cached.ExpiresAt > time.GetUtcNow())
        {
            return cached.AccessToken;
        }

        // One fetch per client at a time: a burst of reads after expiry must not stampede the token endpoint.
        var gate = _fetching.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (_tokens.TryGetValue(key, out cached) && cached.ExpiresAt > time.GetUtcNow())
            {
                return cached.AccessToken;
            }

            var secret = configuration[$"SourceSecrets:{authentication.SecretName}"]
                ?? throw new SourceFailureException(SourceOutcome.Failed, $"has no client secret configured (SourceSecrets:{authentication.SecretName})");
            var form = new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_id"] = authentication.ClientId!,
                ["client_secret"] = secret,
            };
            if (!string.IsNullOrWhiteSpace(authentication.Scope))
            {
                form["scope"] = authentication.Scope;
            }

            using var content = new FormUrlEncodedContent(form);
            using var response = await httpClientFactory.CreateClient(TokenClientName).PostAsync(authentication.TokenEndpoint, content, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new SourceFailureException(SourceOutcome.Failed, $"refused the gateway's client credentials (token endpoint answered HTTP {(int)response.StatusCode})");
            }

            var token = await response.Content.ReadFromJsonAsync<TokenResponse>(cancellationToken)
                ?? throw new SourceFailureException(SourceOutcome.Failed, "gave an empty token response");
            if (string.IsNullOrEmpty(token.AccessToken))
            {
                throw new SourceFailureException(SourceOutcome.Failed, "gave a token response without an access token");
            }

            var lifetime = TimeSpan.FromSeconds(Math.Max(token.ExpiresIn ?? 300, 60));
            _tokens[key] = new CachedToken(token.AccessToken, time.GetUtcNow() + lifetime - ExpirySkew);
            return token.AccessToken;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// The client certificate for <paramref name="authentication"/>, from configuration as base64 PKCS#12; null (and
    /// logged) when it is missing or unreadable, so one organisation's mistake fails only its own calls.
    /// </summary>
    public X509Certificate2? TryCertificate(string odsCode, SourceAuthentication authentication)
    {
        var name = authentication.CertificateName!;
        if (configuration[$"SourceCertificates:{name}"] is not { } encoded)
        {
            Log.CertificateMissing(logger, odsCode, name);
            return null;
        }

        try
        {
            return _certificates.GetOrAdd($"{name}|{encoded.GetHashCode(StringComparison.Ordinal)}", _ =>
                X509CertificateLoader.LoadPkcs12(Convert.FromBase64String(encoded), configuration[$"SourceCertificates:{name}Password"]));
        }
        catch (Exception ex) when (ex is FormatException or System.Security.Cryptography.CryptographicException)
        {
            Log.CertificateUnreadable(logger, odsCode, name, ex);
            return null;
        }
    }

    private sealed record CachedToken(string AccessToken, DateTimeOffset ExpiresAt);

    private static partial class Log
    {
        [LoggerMessage(EventId = 230, Level = LogLevel.Error, Message = "Source {OdsCode}: no client certificate is configured at SourceCertificates:{Name}; its calls will fail the TLS handshake")]
        public static partial void CertificateMissing(ILogger logger, string odsCode, string name);

        [LoggerMessage(EventId = 231, Level = LogLevel.Error, Message = "Source {OdsCode}: the client certificate at SourceCertificates:{Name} cannot be read (base64 PKCS#12 expected)")]
        public static partial void CertificateUnreadable(ILogger logger, string odsCode, string name, Exception exception);
    }

    private sealed record TokenResponse(
        [property: JsonPropertyName("access_token")] string? AccessToken,
        [property: JsonPropertyName("expires_in")] int? ExpiresIn);
}
