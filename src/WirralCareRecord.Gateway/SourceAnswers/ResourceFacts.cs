using System.Text.Json;

namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>
/// One reference found in a resource: a Reference element's <c>reference</c>, <c>type</c> and <c>identifier</c>.
/// <paramref name="RootElement"/> is the top-level element it sits under; <paramref name="Direct"/> says it is that
/// element's value (or an item of it), not something nested deeper.
/// </summary>
internal readonly record struct ReferenceFact(string? Reference, string? Type, string? IdentifierSystem, string? IdentifierValue, string? RootElement, bool Direct);

/// <summary>One top-level property of a resource: its name (unescaped), where its name and value start, where its value ends.</summary>
internal readonly record struct TopLevelProperty(string Name, int NameStart, int ValueStart, int End);

/// <summary>
/// What the safety rules need to know about one resource, read in one forward pass over its JSON without building
/// SDK objects: its type and id, every reference in it, NHS numbers it carries as its own identifiers (a Patient),
/// whether any security label on it is restricted, and the same for each contained resource.
/// </summary>
internal sealed class ResourceFacts
{
    public string? ResourceType { get; set; }

    public string? Id { get; set; }

    public bool HasRestrictedLabel { get; set; }

    /// <summary>The JSON could not be read as one resource: anything so odd is withheld, never guessed at.</summary>
    public bool Malformed { get; set; }

    public List<ReferenceFact> References { get; } = [];

    /// <summary>Values of the resource's own identifiers in the NHS number system.</summary>
    public List<string> NhsNumbers { get; } = [];

    public List<ResourceFacts> Contained { get; } = [];

    /// <summary>
    /// Where each of the resource's own top-level properties lies in its bytes (not a contained resource's), so what
    /// the combined record needs of it (<see cref="ItemFacts.FromOutline"/>) is read from those few ranges, not from a
    /// second pass over the whole resource.
    /// </summary>
    public List<TopLevelProperty> TopLevel { get; } = [];

    /// <summary>Whether this resource or anything it contains carries a restricted label.</summary>
    public bool AnyRestricted => HasRestrictedLabel || Contained.Exists(c => c.AnyRestricted);

    /// <summary>Reads the facts of the resource in <paramref name="json"/> (one JSON object) into new objects.</summary>
    public static ResourceFacts Scan(ReadOnlySpan<byte> json, RestrictedLabels labels) => ScanInto(new ResourceFacts(), json, labels);

    /// <summary>Reads into <paramref name="facts"/>, which holds nothing yet (new, or just reset by <see cref="FactsScanner"/>).</summary>
    internal static ResourceFacts ScanInto(ResourceFacts facts, ReadOnlySpan<byte> json, RestrictedLabels labels, FactsScanner? scanner = null)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                facts.Malformed = true;
                return facts;
            }

            ScanResource(ref reader, facts, labels, scanner, origin: 0);
        }
        catch (JsonException)
        {
            // Nothing read before the fault counts: only that it could not be read.
            facts.Reset();
            facts.Malformed = true;
        }

        return facts;
    }

    /// <summary>
    /// Reads the facts of the resource whose opening brace <paramref name="reader"/> is on, leaving it on the closing one:
    /// an answer's outline (<see cref="AnswerIndex"/>) reads each entry's facts in the same pass that finds the entry, so
    /// the resource is tokenised once. Positions in <see cref="TopLevel"/> are from the opening brace, as for a scan of
    /// the resource's own bytes. A fault in the JSON is the caller's: it makes the whole answer unreadable.
    /// </summary>
    internal static void ScanAt(ref Utf8JsonReader reader, ResourceFacts facts, RestrictedLabels labels, FactsScanner scanner) =>
        ScanResource(ref reader, facts, labels, scanner, origin: reader.TokenStartIndex);

    /// <summary>Back to holding nothing, for the next resource; the lists keep their capacity.</summary>
    internal void Reset()
    {
        ResourceType = null;
        Id = null;
        HasRestrictedLabel = false;
        Malformed = false;
        References.Clear();
        NhsNumbers.Clear();
        Contained.Clear();
        TopLevel.Clear();
    }

    /// <summary>Lets go of list space beyond <paramref name="capacity"/> items (the lists are empty when this is called).</summary>
    internal void Trim(int capacity)
    {
        if (References.Capacity > capacity)
        {
            References.Capacity = capacity;
        }

        if (NhsNumbers.Capacity > capacity)
        {
            NhsNumbers.Capacity = capacity;
        }

        if (Contained.Capacity > capacity)
        {
            Contained.Capacity = capacity;
        }

        if (TopLevel.Capacity > capacity)
        {
            TopLevel.Capacity = capacity;
        }
    }

    /// <summary>Where reference and identifier strings come from: one answer's repeated values once each, when scanned by a <see cref="FactsScanner"/>.</summary>
    internal StringTable? Values { get; set; }

    private string? Text(ref Utf8JsonReader reader) => Values?.Get(ref reader) ?? reader.GetString();

    /// <param name="origin">Where the resource starts in what the reader reads (0 for its own bytes); -1 for a contained one, whose properties are not outlined.</param>
    private static void ScanResource(ref Utf8JsonReader reader, ResourceFacts facts, RestrictedLabels labels, FactsScanner? scanner, long origin)
    {
        var outer = origin >= 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var nameStart = (int)(reader.TokenStartIndex - origin);
            // Unescaped, as ValueTextEquals compares: a name spelt with escapes is the same name.
            var name = NameCache.Get(ref reader);
            reader.Read();
            var valueStart = (int)(reader.TokenStartIndex - origin);
            switch (name)
            {
                case "resourceType":
                    facts.ResourceType = reader.TokenType == JsonTokenType.String ? NameCache.Get(ref reader) : null;
                    facts.Malformed |= reader.TokenType != JsonTokenType.String;
                    SkipValue(ref reader);
                    break;
                case "id":
                    facts.Id = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    SkipValue(ref reader);
                    break;
                case "meta":
                    ScanMeta(ref reader, facts, labels);
                    break;
                case "contained":
                    ScanContained(ref reader, facts, labels, scanner);
                    break;
                case "identifier":
                    ScanOwnIdentifiers(ref reader, facts);
                    break;
                default:
                    WalkValue(ref reader, facts, name, direct: true);
                    break;
            }

            if (outer)
            {
                facts.TopLevel.Add(new TopLevelProperty(name, nameStart, valueStart, (int)(reader.BytesConsumed - origin)));
            }
        }
    }

    private static void ScanContained(ref Utf8JsonReader reader, ResourceFacts facts, RestrictedLabels labels, FactsScanner? scanner)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            facts.Malformed = true;
            SkipValue(ref reader);
            return;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                var contained = scanner?.NextContained() ?? new ResourceFacts();
                ScanResource(ref reader, contained, labels, scanner, origin: -1);
                facts.Contained.Add(contained);
            }
            else
            {
                facts.Malformed = true;
                SkipValue(ref reader);
            }
        }
    }

    private static void WalkValue(ref Utf8JsonReader reader, ResourceFacts facts, string? root, bool direct)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                WalkObject(ref reader, facts, root, direct);
                break;
            case JsonTokenType.StartArray:
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    WalkValue(ref reader, facts, root, direct);
                }

                break;
        }
    }

    /// <summary>Any object: a Reference when it has a <c>reference</c> string or an <c>identifier</c> object.</summary>
    private static void WalkObject(ref Utf8JsonReader reader, ResourceFacts facts, string? root, bool direct)
    {
        string? reference = null, type = null, system = null, value = null;
        var isReference = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("reference"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    reference = facts.Text(ref reader);
                    isReference = true;
                }
                else
                {
                    WalkValue(ref reader, facts, root, direct: false);
                }
            }
            else if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    type = NameCache.Get(ref reader);
                }
                else
                {
                    WalkValue(ref reader, facts, root, direct: false);
                }
            }
            else if (reader.ValueTextEquals("identifier"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    (system, value) = ReadIdentifier(ref reader, facts, root);
                    isReference = true;
                }
                else
                {
                    WalkValue(ref reader, facts, root, direct: false);
                }
            }
            else
            {
                reader.Read();
                WalkValue(ref reader, facts, root, direct: false);
            }
        }

        if (isReference)
        {
            facts.References.Add(new ReferenceFact(reference, type, system, value, root, direct));
        }
    }

    private static (string? System, string? Value) ReadIdentifier(ref Utf8JsonReader reader, ResourceFacts facts, string? root)
    {
        string? system = null, value = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("system"u8))
            {
                reader.Read();
                system = reader.TokenType == JsonTokenType.String ? NameCache.Get(ref reader) : null;
                SkipValue(ref reader);
            }
            else if (reader.ValueTextEquals("value"u8))
            {
                reader.Read();
                value = reader.TokenType == JsonTokenType.String ? facts.Text(ref reader) : null;
                SkipValue(ref reader);
            }
            else
            {
                reader.Read();
                WalkValue(ref reader, facts, root, direct: false);
            }
        }

        return (system, value);
    }

    /// <summary>The resource's own identifiers (an array, or one object on a few types): NHS numbers are noted, references inside them walked.</summary>
    private static void ScanOwnIdentifiers(ref Utf8JsonReader reader, ResourceFacts facts)
    {
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            Note(ReadIdentifier(ref reader, facts, "identifier"));
            return;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            SkipValue(ref reader);
            return;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                Note(ReadIdentifier(ref reader, facts, "identifier"));
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        void Note((string? System, string? Value) identifier)
        {
            if (identifier is { System: PatientMatching.NhsNumber.System, Value: { } nhs })
            {
                facts.NhsNumbers.Add(nhs.Replace(" ", "", StringComparison.Ordinal));
            }
        }
    }

    private static void ScanMeta(ref Utf8JsonReader reader, ResourceFacts facts, RestrictedLabels labels)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            SkipValue(ref reader);
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("security"u8))
            {
                reader.Read();
                SkipValue(ref reader);
                continue;
            }

            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                // A label list that is not a list cannot be read, so it cannot be ruled out: treat as restricted.
                facts.HasRestrictedLabel = true;
                SkipValue(ref reader);
                continue;
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    facts.HasRestrictedLabel = true;
                    SkipValue(ref reader);
                    continue;
                }

                string? system = null, code = null;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("system"u8))
                    {
                        reader.Read();
                        system = reader.TokenType == JsonTokenType.String ? NameCache.Get(ref reader) : null;
                        SkipValue(ref reader);
                    }
                    else if (reader.ValueTextEquals("code"u8))
                    {
                        reader.Read();
                        code = reader.TokenType == JsonTokenType.String ? NameCache.Get(ref reader) : null;
                        SkipValue(ref reader);
                    }
                    else
                    {
                        reader.Read();
                        SkipValue(ref reader);
                    }
                }

                facts.HasRestrictedLabel |= labels.IsRestricted(system, code);
            }
        }
    }

    private static void SkipValue(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
        {
            reader.Skip();
        }
    }
}
