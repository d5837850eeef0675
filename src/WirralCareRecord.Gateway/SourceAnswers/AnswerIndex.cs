using System.Buffers;
using System.Text.Json;

namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>
/// One resource in a source's answer, as a byte range of it, with its Bundle entry's search mode and response status,
/// and where its fullUrl is (read only when wanted: <see cref="AnswerPage.FullUrlOf"/>), or -1.
/// </summary>
internal readonly record struct EntrySlice(long Start, long Length, string? SearchMode, string? ResponseStatus, long FullUrlStart = -1, int FullUrlLength = 0);

/// <summary>
/// The outline of a source's answer from one pass over its bytes: a Bundle's type, links and the byte range of each
/// entry's resource, or the one resource the answer is. Nothing is parsed into objects; each resource is then read
/// on its own (<see cref="ResourceFacts"/>) and copied (<see cref="AddressRewriter"/>).
/// </summary>
internal sealed class AnswerIndex
{
    public string? ResourceType { get; private set; }

    public string? BundleType { get; private set; }

    public bool IsBundle => ResourceType == "Bundle";

    /// <summary>The answer is not one JSON object with a resourceType: nothing of it can be passed on.</summary>
    public bool Malformed { get; private set; }

    public ChunkedList<EntrySlice> Entries { get; } = new(pooled: true);

    public List<(string Relation, string Url)> Links { get; } = [];

    /// <summary>Gives the outline's pooled space back: done when the answer it outlines is (<see cref="SourceAnswer"/>).</summary>
    public void Release() => Entries.Release();

    public static AnswerIndex Read(ReadOnlySequence<byte> answer)
    {
        var index = new AnswerIndex();
        var reader = new Utf8JsonReader(answer, new JsonReaderOptions { MaxDepth = 256 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                index.Malformed = true;
                return index;
            }

            var entries = index.Entries;
            var entriesWellFormed = true;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("resourceType"u8))
                {
                    reader.Read();
                    index.ResourceType = reader.TokenType == JsonTokenType.String ? NameCache.Get(ref reader) : null;
                }
                else if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    index.BundleType = reader.TokenType == JsonTokenType.String ? NameCache.Get(ref reader) : null;
                    Skip(ref reader);
                }
                else if (reader.ValueTextEquals("link"u8))
                {
                    reader.Read();
                    ReadLinks(ref reader, index.Links);
                }
                else if (reader.ValueTextEquals("entry"u8))
                {
                    reader.Read();
                    entriesWellFormed &= ReadEntries(ref reader, entries);
                }
                else
                {
                    reader.Read();
                    Skip(ref reader);
                }
            }

            // Only a Bundle's entries are its resources; any other answer is itself the one resource.
            if (index.ResourceType is null)
            {
                index.Malformed = true;
                index.Entries.Clear();
            }
            else if (index.IsBundle)
            {
                index.Malformed = !entriesWellFormed;
            }
            else
            {
                index.Links.Clear();
                index.Entries.Clear();
                index.Entries.Add(new EntrySlice(0, answer.Length, null, null));
            }
        }
        catch (JsonException)
        {
            // Nothing of an answer that is not JSON is passed on, not even the entries read before the fault.
            index.Malformed = true;
            index.Entries.Clear();
        }

        return index;
    }

    private static void ReadLinks(ref Utf8JsonReader reader, List<(string, string)> links)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            Skip(ref reader);
            return;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                Skip(ref reader);
                continue;
            }

            string? relation = null, url = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("relation"u8))
                {
                    reader.Read();
                    relation = reader.TokenType == JsonTokenType.String ? NameCache.Get(ref reader) : null;
                }
                else if (reader.ValueTextEquals("url"u8))
                {
                    reader.Read();
                    url = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else
                {
                    reader.Read();
                }

                Skip(ref reader);
            }

            if (relation is not null && url is not null)
            {
                links.Add((relation, url));
            }
        }
    }

    /// <summary>Returns false when <c>entry</c> is not a list of objects (which matters only if the answer is a Bundle).</summary>
    private static bool ReadEntries(ref Utf8JsonReader reader, ChunkedList<EntrySlice> entries)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            Skip(ref reader);
            return false;
        }

        var wellFormed = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                Skip(ref reader);
                wellFormed = false;
                continue;
            }

            long start = -1, end = -1, fullUrlStart = -1, fullUrlEnd = -1;
            string? mode = null, status = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("resource"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        start = reader.TokenStartIndex;
                        reader.Skip();
                        end = reader.BytesConsumed;
                    }
                    else
                    {
                        Skip(ref reader);
                    }
                }
                else if (reader.ValueTextEquals("search"u8))
                {
                    reader.Read();
                    mode = ReadString(ref reader, "mode"u8);
                }
                else if (reader.ValueTextEquals("response"u8))
                {
                    reader.Read();
                    status = ReadString(ref reader, "status"u8);
                }
                else if (reader.ValueTextEquals("fullUrl"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        fullUrlStart = reader.TokenStartIndex;
                        fullUrlEnd = reader.BytesConsumed;
                    }

                    Skip(ref reader);
                }
                else
                {
                    reader.Read();
                    Skip(ref reader);
                }
            }

            // An entry without a resource (a batch-response failure, a deleted item) is counted by its status, not passed on.
            entries.Add(new EntrySlice(start, start < 0 ? 0 : end - start, mode, status, fullUrlStart, (int)(fullUrlEnd - fullUrlStart)));
        }

        return wellFormed;
    }

    /// <summary>One string property of a small object (<c>search.mode</c>, <c>response.status</c>); the rest is skipped.</summary>
    private static string? ReadString(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            Skip(ref reader);
            return null;
        }

        string? value = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var wanted = reader.ValueTextEquals(name);
            reader.Read();
            if (wanted && reader.TokenType == JsonTokenType.String)
            {
                value = NameCache.Get(ref reader);
            }

            Skip(ref reader);
        }

        return value;
    }

    private static void Skip(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
        {
            reader.Skip();
        }
    }
}
