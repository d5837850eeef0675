using System.Buffers;
using System.Text.Json;

namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>
/// One resource in a source's answer, as a byte range of it, with its Bundle entry's search mode and response status,
/// and where its fullUrl is (read only when wanted: <see cref="AnswerPage.FullUrlOf"/>), or -1; and which of the
/// outline's held facts are its resource's (<see cref="AnswerIndex.FactsOf"/>), or -1 when they were not read with it.
/// </summary>
internal readonly record struct EntrySlice(long Start, long Length, string? SearchMode, string? ResponseStatus, long FullUrlStart = -1, int FullUrlLength = 0, int Facts = -1);

/// <summary>
/// The outline of a source's answer from one pass over its bytes: a Bundle's type, links and the byte range of each
/// entry's resource, or the one resource the answer is. Nothing is parsed into objects. Given the restricted labels,
/// the same pass reads each entry's <see cref="ResourceFacts"/> as it finds the entry, so an answer is tokenised once;
/// kept resources are then copied (<see cref="AddressRewriter"/>).
/// </summary>
internal sealed class AnswerIndex
{
    private FactsScanner? _facts;

    /// <summary>The labels the held facts were read with; facts are only given for the same ones.</summary>
    private RestrictedLabels? _labels;

    public string? ResourceType { get; private set; }

    public string? BundleType { get; private set; }

    public bool IsBundle => ResourceType == "Bundle";

    /// <summary>The answer is not one JSON object with a resourceType: nothing of it can be passed on.</summary>
    public bool Malformed { get; private set; }

    public ChunkedList<EntrySlice> Entries { get; } = new(pooled: true);

    public List<(string Relation, string Url)> Links { get; } = [];

    /// <summary>
    /// The facts of the entry's resource read with the outline, or null when they were not (a single-resource answer, an
    /// outline read without labels, or other labels than <paramref name="labels"/>): the caller then reads them itself.
    /// Valid until the outline is released, with the answer's bytes.
    /// </summary>
    public ResourceFacts? FactsOf(EntrySlice entry, RestrictedLabels labels) =>
        entry.Facts >= 0 && ReferenceEquals(labels, _labels) && _facts is { } facts ? facts.Held(entry.Facts) : null;

    /// <summary>Gives the outline's pooled space back: done when the answer it outlines is (<see cref="SourceAnswer"/>).</summary>
    public void Release()
    {
        Entries.Release();
        // Once only: a scanner given back twice would be handed to two answers at once.
        Interlocked.Exchange(ref _facts, null)?.Dispose();
    }

    /// <param name="answer">The answer's bytes.</param>
    /// <param name="labels">When given, each Bundle entry's facts are read in the same pass and held (<see cref="FactsOf"/>).</param>
    public static AnswerIndex Read(ReadOnlySequence<byte> answer, RestrictedLabels? labels = null)
    {
        var index = new AnswerIndex { _labels = labels };

        var reader = new Utf8JsonReader(answer, new JsonReaderOptions { MaxDepth = 256 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                index.Malformed = true;
                return index;
            }

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
                    entriesWellFormed &= index.ReadEntries(ref reader);
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
                index.Forget();
            }
            else if (index.IsBundle)
            {
                index.Malformed = !entriesWellFormed;
            }
            else
            {
                index.Links.Clear();
                index.Forget();
                index.Entries.Add(new EntrySlice(0, answer.Length, null, null));
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Nothing of an answer that is not JSON is passed on, not even the entries read before the fault. A string
            // that is not UTF-8 (which the reader leaves to whoever decodes it, here the facts) is as unreadable.
            index.Malformed = true;
            index.Forget();
        }

        return index;
    }

    /// <summary>No entries, and no facts held for any.</summary>
    private void Forget()
    {
        Entries.Clear();
        Interlocked.Exchange(ref _facts, null)?.Dispose();
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
    private bool ReadEntries(ref Utf8JsonReader reader)
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
            var factsNumber = -1;
            string? mode = null, status = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("resource"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        start = reader.TokenStartIndex;
                        if (_labels is not null)
                        {
                            // Reading the facts walks the resource to its closing brace, as skipping it would. The scanner
                            // is rented at the first resource, so an answer without entries takes none.
                            _facts ??= FactsScanner.RentForAnswer();
                            factsNumber = _facts.ScanNext(ref reader, _labels);
                        }
                        else
                        {
                            reader.Skip();
                        }

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
            Entries.Add(new EntrySlice(start, start < 0 ? 0 : end - start, mode, status, fullUrlStart, (int)(fullUrlEnd - fullUrlStart), factsNumber));
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
