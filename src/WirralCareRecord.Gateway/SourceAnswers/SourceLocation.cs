namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>
/// Where a source's FHIR server is, and how its addresses map onto the gateway's. Any URL on the source's host
/// (http or https, any path) is the source's: under its registered FHIR base the rest of the path is kept; at the
/// server root (some servers answer that way) the whole path is.
/// </summary>
internal sealed class SourceLocation
{
    private readonly string _authority;
    private readonly string _basePath;

    public SourceLocation(Uri fhirBase, string gatewaySourceBase)
    {
        _authority = fhirBase.IsDefaultPort ? fhirBase.Host : $"{fhirBase.Host}:{fhirBase.Port}";
        DefaultPort = fhirBase.IsDefaultPort ? null : fhirBase.Port;
        _basePath = fhirBase.AbsolutePath.TrimEnd('/');
        GatewaySourceBase = gatewaySourceBase.TrimEnd('/');
        SourceBase = fhirBase.ToString().TrimEnd('/');
    }

    /// <summary>The source's host, with its port unless that is the scheme's default.</summary>
    public string Authority => _authority;

    /// <summary>The path of the source's FHIR base, without a trailing slash ("" at the server root).</summary>
    public string BasePath => _basePath;

    /// <summary>The gateway's base for this source: <c>{public base}/sources/{ods}/fhir</c>.</summary>
    public string GatewaySourceBase { get; }

    /// <summary>The source's registered FHIR base.</summary>
    public string SourceBase { get; }

    private int? DefaultPort { get; }

    /// <summary>
    /// The part of <paramref name="url"/> after the source's base (starting with '/', '?', '#' or empty) when the URL is
    /// on the source's host; null for anything else (another server, a relative reference, a URN).
    /// </summary>
    public string? LocalPart(string url)
    {
        int afterScheme;
        if (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            afterScheme = 8;
        }
        else if (url.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            afterScheme = 7;
        }
        else
        {
            return null;
        }

        var end = afterScheme;
        while (end < url.Length && url[end] is not ('/' or '?' or '#'))
        {
            end++;
        }

        var authority = url.AsSpan(afterScheme, end - afterScheme);
        if (!SameAuthority(authority))
        {
            return null;
        }

        var rest = url[end..];
        return _basePath.Length > 0 && rest.StartsWith(_basePath, StringComparison.OrdinalIgnoreCase)
            && (rest.Length == _basePath.Length || rest[_basePath.Length] is '/' or '?' or '#')
            ? rest[_basePath.Length..]
            : rest;
    }

    /// <summary>The gateway's address for a URL on the source's host; the URL unchanged if it is not the source's.</summary>
    public string Rewrite(string url) => LocalPart(url) is { } local ? GatewaySourceBase + local : url;

    private bool SameAuthority(ReadOnlySpan<char> authority)
    {
        // "host:443" and "host" name the same server for https; the registered base says which port is meant.
        if (authority.Equals(_authority, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        var colon = authority.LastIndexOf(':');
        return DefaultPort is null && colon > 0
            && authority[..colon].Equals(_authority, StringComparison.OrdinalIgnoreCase)
            && authority[(colon + 1)..] is "80" or "443";
    }
}
