using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>
/// The gateway's own addresses for source data. Callers only ever see these: a source's real base URL never leaves the gateway.
/// </summary>
public static class GatewayAddresses
{
    /// <summary>The FHIR base of a source's route on the gateway: <c>{gateway}/sources/{ods}/fhir</c>.</summary>
    public static string SourceBase(string gatewayBase, string odsCode) => $"{gatewayBase.TrimEnd('/')}/sources/{odsCode}/fhir";
}

/// <summary>
/// The gateway's public base address, which every link it writes starts with: <see cref="FederationOptions.PublicBaseUrl"/>
/// when set (it must be, behind a load balancer or proxy), otherwise the first address the server itself listens on.
/// Never the request's <c>Host</c> header, which the caller chooses.
/// </summary>
internal sealed class PublicBaseAddress(IOptions<FederationOptions> options, IServer server)
{
    private string? _value;

    public string Value => _value ??= Resolve();

    private string Resolve()
    {
        if (options.Value.PublicBaseUrl is { } configured)
        {
            return configured.ToString().TrimEnd('/');
        }

        var listening = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        if (listening is null)
        {
            return "http://localhost";
        }

        // Kestrel reports wildcard bindings ("http://[::]:8080", "http://+:80"): name the machine as localhost instead.
        var uri = new UriBuilder(listening.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal));
        if (uri.Host is "[::]" or "0.0.0.0" or "::")
        {
            uri.Host = "localhost";
        }

        return uri.Uri.GetLeftPart(UriPartial.Authority);
    }
}
