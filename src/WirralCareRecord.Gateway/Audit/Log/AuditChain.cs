using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// The hash chain that makes each log blob tamper-evident. Every event carries, in an extension, the SHA-256 of the
/// previous line of its blob exactly as stored; the first event of a blob carries a genesis value derived from the
/// blob's name, so a blob renamed or spliced into another is caught too. Editing, removing or inserting a line breaks
/// the link of the line after it.
/// </summary>
public static class AuditChain
{
    /// <summary>The extension on each AuditEvent holding the previous line's SHA-256 (base64Binary).</summary>
    public const string PreviousHashUrl = "https://fhir.wirralcarerecord.nhs.uk/StructureDefinition/wcr-audit-previous-hash";

    private const string GenesisLabel = "wcr-audit-chain-genesis|";

    /// <summary>What the first event of <paramref name="blobName"/> links to.</summary>
    public static byte[] Genesis(string blobName) => SHA256.HashData(Encoding.UTF8.GetBytes(GenesisLabel + blobName));

    /// <summary>The hash a line passes on to the next: over its bytes as stored, without the newline.</summary>
    public static byte[] HashOf(ReadOnlySpan<byte> line) => SHA256.HashData(line);

    /// <summary>
    /// The id and previous hash written in a stored line, read with a plain JSON reader rather than the FHIR parser so a
    /// line that was edited into something that is not FHIR is still reported precisely.
    /// </summary>
    public static bool TryReadLink(ReadOnlyMemory<byte> line, out string? id, out byte[]? previousHash)
    {
        id = null;
        previousHash = null;
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            id = root.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : null;
            if (root.TryGetProperty("extension", out var extensions) && extensions.ValueKind == JsonValueKind.Array)
            {
                foreach (var extension in extensions.EnumerateArray())
                {
                    if (extension.ValueKind == JsonValueKind.Object
                        && extension.TryGetProperty("url", out var url) && url.ValueEquals(PreviousHashUrl)
                        && extension.TryGetProperty("valueBase64Binary", out var value) && value.ValueKind == JsonValueKind.String
                        && value.TryGetBytesFromBase64(out var bytes))
                    {
                        previousHash = bytes;
                    }
                }
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
