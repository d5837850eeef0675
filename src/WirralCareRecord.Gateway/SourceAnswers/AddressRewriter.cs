using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>
/// Copies one resource's JSON, byte for byte, except that every string holding an address on the source's host
/// (a reference, a fullUrl, an attachment URL, a link in the narrative) is written with the gateway's address instead.
/// Unchanged ranges are copied, not re-written token by token.
/// </summary>
internal sealed class AddressRewriter
{
    private static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
    private readonly SourceLocation _location;
    private readonly byte[] _hostLower;
    private readonly byte[] _hostUpper;
    private readonly Regex _embedded;
    private readonly Func<string, string?>? _signLocal;

    /// <param name="signLocal">
    /// Given the part of a source address after its base, the gateway's signed link for it (documents the caller may
    /// open later), or null to write the plain gateway address.
    /// </param>
    public AddressRewriter(SourceLocation location, Func<string, string?>? signLocal = null)
    {
        _location = location;
        _signLocal = signLocal;
        var host = location.Authority;
        _hostLower = Encoding.UTF8.GetBytes(host.ToLowerInvariant());
        _hostUpper = Encoding.UTF8.GetBytes(host.ToUpperInvariant());
        // Any http(s) address on the source's host inside a longer text (the XHTML narrative): the base path, when
        // present, is replaced with the gateway's source base; a root-based address keeps its whole path.
        _embedded = EmbeddedAddresses.GetOrAdd((host, location.BasePath), static key => new Regex(
            $@"https?://{Regex.Escape(key.Host)}(?=[/?#""'<\s]|$)(?:{Regex.Escape(key.BasePath)}(?=[/?#""'<\s]|$))?",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant,
            TimeSpan.FromSeconds(1)));
    }

    /// <summary>
    /// One pattern per source (a rewriter is made per request): the few registered sources' patterns are parsed once.
    /// Bounded by the registry; a host that is not a source never gets a rewriter.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Host, string BasePath), Regex> EmbeddedAddresses = new();

    public SourceLocation Location => _location;

    /// <summary>Rewrites one string value (a link, a fullUrl) as <see cref="Copy"/> would inside a resource.</summary>
    public string RewriteText(string value)
    {
        var local = _location.LocalPart(value);
        if (local is not null)
        {
            return _signLocal?.Invoke(local) ?? _location.GatewaySourceBase + local;
        }

        return value.Contains("://", StringComparison.Ordinal) ? _embedded.Replace(value, match => MapEmbedded(match.Value)) : value;
    }

    private string MapEmbedded(string matched) => _location.Rewrite(matched) is var rewritten && rewritten != matched
        ? rewritten
        : _location.GatewaySourceBase;

    /// <summary>Copies <paramref name="json"/> (one resource) to <paramref name="output"/>, rewriting the source's addresses.</summary>
    public void Copy(ReadOnlySpan<byte> json, IBufferWriter<byte> output)
    {
        if (LeavesUnchanged(json))
        {
            output.Write(json);
            return;
        }

        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
        var copied = 0;
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.String || !MayHoldHost(ref reader))
            {
                continue;
            }

            var value = reader.GetString()!;
            var rewritten = RewriteText(value);
            if (ReferenceEquals(rewritten, value) || rewritten == value)
            {
                continue;
            }

            var start = (int)reader.TokenStartIndex;
            output.Write(json[copied..start]);
            WriteString(output, rewritten);
            copied = (int)reader.BytesConsumed;
        }

        output.Write(json[copied..]);
    }

    /// <summary>
    /// Whether <see cref="Copy"/> would write <paramref name="json"/> exactly as it is. Most resources name nothing on the
    /// source's host (relative references): with no escape sequence that could spell the host either, one vectorised
    /// search proves the bytes go out unchanged, without reading a token. False means only that a token must be read.
    /// </summary>
    public bool LeavesUnchanged(ReadOnlySpan<byte> json) =>
        json.IndexOf((byte)'\\') < 0 && !ContainsIgnoreCase(json, _hostLower, _hostUpper);

    private bool MayHoldHost(ref Utf8JsonReader reader) =>
        reader.ValueIsEscaped || ContainsIgnoreCase(reader.ValueSpan, _hostLower, _hostUpper);

    private static bool ContainsIgnoreCase(ReadOnlySpan<byte> text, byte[] lower, byte[] upper)
    {
        if (lower.Length == 0)
        {
            return false;
        }

        var offset = 0;
        while (offset <= text.Length - lower.Length)
        {
            var next = text[offset..].IndexOfAny(lower[0], upper[0]);
            if (next < 0 || offset + next > text.Length - lower.Length)
            {
                return false;
            }

            offset += next;
            if (System.Text.Ascii.EqualsIgnoreCase(text.Slice(offset, lower.Length), lower))
            {
                return true;
            }

            offset++;
        }

        return false;
    }

    /// <summary>Printable ASCII but for the quote and backslash: what JSON carries as it is, with the relaxed encoder.</summary>
    private static readonly SearchValues<char> Verbatim = SearchValues.Create(" !#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    /// <summary>Whether the value goes into a JSON string as it is, byte for byte.</summary>
    internal static bool IsVerbatim(ReadOnlySpan<char> value) => !value.ContainsAnyExcept(Verbatim);

    internal static void WriteString(IBufferWriter<byte> output, string value)
    {
        // Addresses, ids and codes are nearly always plain ASCII needing no escape: those are written as they are.
        if (value.Length < 1024 && IsVerbatim(value))
        {
            var plain = output.GetSpan(value.Length + 2);
            plain[0] = (byte)'"';
            var written = Encoding.ASCII.GetBytes(value, plain[1..]);
            plain[written + 1] = (byte)'"';
            output.Advance(written + 2);
            return;
        }

        var encoded = JsonEncodedText.Encode(value, Encoder);
        var bytes = encoded.EncodedUtf8Bytes;
        var span = output.GetSpan(bytes.Length + 2);
        span[0] = (byte)'"';
        bytes.CopyTo(span[1..]);
        span[bytes.Length + 1] = (byte)'"';
        output.Advance(bytes.Length + 2);
    }
}
