using System.Text.Json;

namespace WirralCareRecord.Gateway.Validation.Definitions;

/// <summary>
/// One of the base R4 definition files (a FHIR Bundle such as <c>profiles-resources.json</c>), indexed by canonical
/// URL without parsing its resources. Parsing all of them takes seconds and most are never needed, so each is
/// deserialized only when first asked for.
/// </summary>
internal sealed class JsonBundleFile
{
    private readonly byte[] _bytes;
    private readonly Dictionary<string, Range> _byUrl;

    private JsonBundleFile(string path, byte[] bytes, Dictionary<string, Range> byUrl)
    {
        Path = path;
        _bytes = bytes;
        _byUrl = byUrl;
    }

    public string Path { get; }

    public int Count => _byUrl.Count;

    public static JsonBundleFile Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var byUrl = new Dictionary<string, Range>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(bytes);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new InvalidDataException($"{path} is not a FHIR Bundle.");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("entry"))
            {
                reader.Skip();
                continue;
            }

            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (!reader.ValueTextEquals("resource"))
                    {
                        reader.Skip();
                        continue;
                    }

                    reader.Read();
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    var range = new Range(start, (int)reader.BytesConsumed);
                    // The first definition of a URL wins, as in the FHIR package the files come from.
                    if (UrlOf(bytes.AsSpan(range)) is { } url)
                    {
                        byUrl.TryAdd(url, range);
                    }
                }
            }
        }

        return new JsonBundleFile(path, bytes, byUrl);
    }

    public bool Contains(string url) => _byUrl.ContainsKey(url);

    /// <summary>The resource's JSON, or empty when the file has no resource with that URL.</summary>
    public ReadOnlyMemory<byte> Find(string url) => _byUrl.TryGetValue(url, out var range) ? _bytes.AsMemory(range) : ReadOnlyMemory<byte>.Empty;

    private static string? UrlOf(ReadOnlySpan<byte> resource)
    {
        var reader = new Utf8JsonReader(resource);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("url"))
            {
                reader.Read();
                return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }

            reader.Skip();
        }

        return null;
    }
}
