using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Onboarding;
using Yarp.ReverseProxy.Forwarder;

namespace WirralCareRecord.Gateway.SourceProxy;

/// <summary>
/// YARP's client for each source route authenticates as the federated read does: the organisation's client certificate
/// on the connection, its client-credentials token on each request. A change to the organisation's authentication
/// reaches YARP as new cluster metadata, which makes YARP build a new client.
/// </summary>
internal sealed class SourceForwarderHttpClients(IOrganisationRegistry registry, SourceCredentials credentials, ILogger<ForwarderHttpClientFactory> logger)
    : ForwarderHttpClientFactory(logger)
{
    public const string AuthenticationMetadataKey = "wcr-authentication";

    protected override bool CanReuseOldClient(ForwarderHttpClientContext context) =>
        base.CanReuseOldClient(context)
        && string.Equals(
            context.OldMetadata?.GetValueOrDefault(AuthenticationMetadataKey), context.NewMetadata?.GetValueOrDefault(AuthenticationMetadataKey), StringComparison.Ordinal);

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        if (OdsCodeOf(context) is { } odsCode
            && registry.Current.Find(odsCode)?.Authentication is { Mode: SourceAuthenticationMode.MutualTls } mutualTls
            && credentials.TryCertificate(odsCode, mutualTls) is { } certificate)
        {
            handler.SslOptions.ClientCertificates = [certificate];
        }
    }

    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler) =>
        OdsCodeOf(context) is { } odsCode
            ? new SourceHttp.BearerTokenHandler(odsCode, registry, credentials) { InnerHandler = base.WrapHandler(context, handler) }
            : base.WrapHandler(context, handler);

    private static string? OdsCodeOf(ForwarderHttpClientContext context) =>
        context.NewMetadata?.GetValueOrDefault(SourceRoutes.SourceMetadataKey);
}
