using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>
/// The gateway's own addresses for source data. Callers only ever see these: a source's real base URL never leaves the gateway.
/// </summary>
public static class GatewayAddresses
{
    /// <summary>The gateway's base as the caller reached it (scheme, host and path base).</summary>
    public static string BaseOf(HttpRequest request) => $"{request.Scheme}://{request.Host}{request.PathBase}";

    /// <summary>The FHIR base of a source's route on the gateway: <c>{gateway}/sources/{ods}/fhir</c>.</summary>
    public static string SourceBase(string gatewayBase, string odsCode) => $"{gatewayBase.TrimEnd('/')}/sources/{odsCode}/fhir";

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
