using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Federation;

namespace WirralCareRecord.Gateway.SourceProxy;

/// <summary>
/// Signs the links the gateway writes into source answers (a search's next page, a DocumentReference's document), binding
/// each to its source and to the patient the answer was about. A signed link is forwarded as written, because the
/// gateway wrote it from the source's own answer; a link changed by anyone else is refused. The patient it names goes
/// through the same rules as any other request, so a link passed to another user grants nothing.
/// </summary>
internal sealed class PageLinkSigner(IOptions<FederationOptions> options)
{
    public const string PatientParameter = "_wcr-patient";
    public const string SignatureParameter = "_wcr-sig";

    private readonly byte[] _key = options.Value.LinkSigningKey is { Length: > 0 } configured
        ? Convert.FromBase64String(configured)
        : RandomNumberGenerator.GetBytes(32);

    /// <summary>
    /// The gateway's address (already rewritten) with the patient and a signature added.
    /// <paramref name="gatewaySourceBase"/> is the <c>…/sources/{ods}/fhir</c> prefix the address starts with.
    /// </summary>
    public string Sign(string odsCode, string gatewaySourceBase, string gatewayUrl, string patientId)
    {
        if (!gatewayUrl.StartsWith(gatewaySourceBase, StringComparison.Ordinal))
        {
            return gatewayUrl;
        }

        var local = gatewayUrl[gatewaySourceBase.Length..];
        var fragment = local.IndexOf('#', StringComparison.Ordinal);
        if (fragment >= 0)
        {
            local = local[..fragment];
        }

        var query = local.IndexOf('?', StringComparison.Ordinal);
        var path = query < 0 ? local : local[..query];
        var rawQuery = query < 0 ? "" : local[(query + 1)..];
        var withPatient = (rawQuery.Length == 0 ? "" : rawQuery + "&") + PatientParameter + "=" + Uri.EscapeDataString(patientId);
        return $"{gatewaySourceBase}{path}?{withPatient}&{SignatureParameter}={Mac(odsCode, path, withPatient)}";
    }

    /// <summary>The request a signed link stands for, or null when the signature does not hold.</summary>
    public RouteRequest? Verify(string odsCode, string rest, string rawQuery)
    {
        var query = rawQuery.TrimStart('?');
        var marker = "&" + SignatureParameter + "=";
        var at = query.LastIndexOf(marker, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var signed = query[..at];
        var signature = query[(at + marker.Length)..];
        var expected = Mac(odsCode, rest, signed);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(signature), Encoding.ASCII.GetBytes(expected)))
        {
            return null;
        }

        var patientMarker = PatientParameter + "=";
        var parts = signed.Split('&');
        var patient = parts.LastOrDefault(p => p.StartsWith(patientMarker, StringComparison.Ordinal));
        if (patient is null)
        {
            return null;
        }

        var forwardQuery = string.Join('&', parts.Where(p => !ReferenceEquals(p, patient)));
        var type = rest.Trim('/').Split('/')[0];
        return new RouteRequest(RouteKind.SignedLink, type.Length == 0 ? "Bundle" : type, Uri.UnescapeDataString(patient[patientMarker.Length..]), null, rest.Length == 0 ? "/" : rest, forwardQuery);
    }

    private string Mac(string odsCode, string path, string query)
    {
        var mac = HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes($"{odsCode}\n{path}\n{query}"));
        return Convert.ToBase64String(mac, 0, 24).Replace('+', '-').Replace('/', '_');
    }
}
