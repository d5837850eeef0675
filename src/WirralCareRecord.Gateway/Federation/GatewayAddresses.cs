using Hl7.Fhir.Model;
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

    /// <summary>
    /// Rewrites every address on the source's host (see <see cref="SourceAnswers.SourceLocation"/>) to the gateway's,
    /// whatever its path: references, attachment URLs, Bundle links, fullUrls and response locations.
    /// </summary>
    internal static void Rewrite(Base element, SourceAnswers.AddressRewriter rewriter) =>
        RewriteWith(element, rewriter.RewriteText);

    private static void RewriteWith(Base element, Func<string, string> rewrite)
    {
        switch (element)
        {
            case ResourceReference reference when reference.Reference is { } r:
                reference.Reference = rewrite(r);
                break;
            case Attachment attachment when attachment.Url is { } u:
                attachment.Url = rewrite(u);
                break;
            case Bundle.LinkComponent link when link.Url is { } u:
                link.Url = rewrite(u);
                break;
            case Bundle.EntryComponent entry when entry.FullUrl is { } u:
                entry.FullUrl = rewrite(u);
                break;
            case Bundle.ResponseComponent response when response.Location is { } u:
                response.Location = rewrite(u);
                break;
            case Narrative narrative when narrative.Div is { } div:
                narrative.Div = rewrite(div);
                break;
        }

        foreach (var (_, value) in element.EnumerateElements())
        {
            switch (value)
            {
                case PrimitiveType primitive when !primitive.TryGetValue("extension", out _):
                    break;
                case Base child:
                    RewriteWith(child, rewrite);
                    break;
                case IEnumerable<Base> children:
                    foreach (var child in children)
                    {
                        if (child is not PrimitiveType bare || bare.TryGetValue("extension", out _))
                        {
                            RewriteWith(child, rewrite);
                        }
                    }

                    break;
            }
        }
    }

    /// <summary>
    /// Rewrites every absolute reference, attachment URL, Bundle link, fullUrl and response location under <paramref name="sourceBase"/> to the same path under
    /// <paramref name="gatewaySourceBase"/>. Relative references need no change: they resolve against the entry's fullUrl,
    /// which is already the gateway's.
    /// </summary>
    public static void Rewrite(Base element, string sourceBase, string gatewaySourceBase) =>
        RewriteUnder(element, sourceBase.TrimEnd('/'), gatewaySourceBase);

    private static void RewriteUnder(Base element, string from, string gatewaySourceBase)
    {
        switch (element)
        {
            case ResourceReference reference when reference.Reference is { } r && IsUnder(r, from):
                reference.Reference = gatewaySourceBase + r[from.Length..];
                break;
            case Attachment attachment when attachment.Url is { } u && IsUnder(u, from):
                attachment.Url = gatewaySourceBase + u[from.Length..];
                break;
            case Bundle.LinkComponent link when link.Url is { } u:
                link.Url = RewriteUrl(u, from, gatewaySourceBase);
                break;
            case Bundle.EntryComponent entry when entry.FullUrl is { } u:
                entry.FullUrl = RewriteUrl(u, from, gatewaySourceBase);
                break;
            case Bundle.ResponseComponent response when response.Location is { } u:
                response.Location = RewriteUrl(u, from, gatewaySourceBase);
                break;
        }

        foreach (var (_, value) in element.EnumerateElements())
        {
            switch (value)
            {
                case Base child:
                    Visit(child, from, gatewaySourceBase);
                    break;
                case IEnumerable<Base> children:
                    foreach (var child in children)
                    {
                        Visit(child, from, gatewaySourceBase);
                    }

                    break;
            }
        }
    }

    /// <summary>
    /// A primitive holds no reference unless one of its extensions does; skipping the bare ones (most of a record's
    /// elements) halves the cost of the walk. <c>TryGetValue</c> asks without allocating the extension list.
    /// </summary>
    private static void Visit(Base child, string from, string gatewaySourceBase)
    {
        if (child is PrimitiveType primitive && !primitive.TryGetValue("extension", out _))
        {
            return;
        }

        RewriteUnder(child, from, gatewaySourceBase);
    }

    /// <summary>Rewrites one URL (a Location header, a Bundle link) if it is under the source's base.</summary>
    public static string RewriteUrl(string url, string sourceBase, string gatewaySourceBase)
    {
        var from = sourceBase.TrimEnd('/');
        return IsUnder(url, from) ? gatewaySourceBase + url[from.Length..] : url;
    }

    private static bool IsUnder(string url, string baseUrl) =>
        url.StartsWith(baseUrl, StringComparison.OrdinalIgnoreCase)
        && (url.Length == baseUrl.Length || url[baseUrl.Length] is '/' or '?' or '#');
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
