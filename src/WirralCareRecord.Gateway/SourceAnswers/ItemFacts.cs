using System.Text.Json;

namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>
/// What makes two items from different sources the same fact: the kind of item, the coded thing, and for events the day;
/// for an encounter, its class and the day it started. Kept in parts, so no code with a separator in it can pass for another.
/// </summary>
public readonly record struct SameItemKey(string Kind, string System, string Code, string Day);

/// <summary>
/// What the combined record needs to know about one kept resource beyond the safety rules' facts, read from its bytes:
/// the same-item key (<see cref="Federation.SameItemLinker"/>) and, for an Encounter or EpisodeOfCare, the organisation
/// that provided it and when it started (<see cref="Federation.LegitimateRelationship"/>).
/// </summary>
public sealed record ItemFacts(string ResourceType, string Id)
{
    /// <summary>What makes it the same fact as another source's item; null when it is not matched with anything.</summary>
    public SameItemKey? SameItemKey { get; init; }

    /// <summary>An Encounter's <c>serviceProvider</c> or an EpisodeOfCare's <c>managingOrganization</c> is given.</summary>
    public bool HasProvider { get; init; }

    /// <summary>That provider's ODS code, when it is named by an ODS identifier.</summary>
    public string? ProviderOdsCode { get; init; }

    /// <summary>An Encounter's or EpisodeOfCare's <c>period.start</c>, as sent.</summary>
    public string? PeriodStart { get; init; }

    /// <summary>
    /// Where the resource's parts lie in its bytes, four numbers each: <see cref="Part"/>, where its name starts, where
    /// its value starts, where it ends. Lets the combined record stamp meta and rewrite addresses part by part in one pass.
    /// </summary>
    internal ReadOnlyMemory<int> Parts { get; init; }

    private const int MaxReusedCapacity = 1024;

    [ThreadStatic]
    private static List<int>? Layout;

    [ThreadStatic]
    private static List<TopLevelProperty>? Outline;

    /// <summary>What one span of <see cref="Parts"/> is.</summary>
    internal enum Part
    {
        /// <summary>The <c>resourceType</c> property.</summary>
        ResourceType,

        /// <summary>A property of <c>meta</c> other than source and tag.</summary>
        Meta,

        /// <summary>One item of <c>meta.tag</c> (name and value start are the same).</summary>
        Tag,

        /// <summary>Any other top-level property.</summary>
        Element,
    }

    /// <summary>
    /// Reads the facts of a resource the rules kept. Null when its <c>meta</c> is not the shape FHIR gives it (an object
    /// whose <c>tag</c> is a list of objects): the combined record must add to it, so such a resource is withheld.
    /// </summary>
    /// <param name="store">Where the parts are kept (the kept resources' arena); without one, they are an array of their own.</param>
    internal static ItemFacts? Read(ReadOnlySpan<byte> json, string resourceType, string id, IntArena? store = null)
    {
        // Reused per thread, but not at the size a hostile resource (thousands of properties) once needed.
        var outline = Outline is { Capacity: <= MaxReusedCapacity } reused ? reused : Outline = [];
        outline.Clear();
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var nameStart = (int)reader.TokenStartIndex;
                var name = NameCache.Get(ref reader);
                reader.Read();
                var valueStart = (int)reader.TokenStartIndex;
                reader.Skip();
                outline.Add(new TopLevelProperty(name, nameStart, valueStart, (int)reader.BytesConsumed));
            }
        }
        catch (JsonException)
        {
            return null;
        }

        return FromOutline(json, resourceType, id, outline, store);
    }

    /// <summary>
    /// As <see cref="Read"/>, from the resource's top-level properties already found (<see cref="ResourceFacts.TopLevel"/>):
    /// only the few values it needs (meta, the coded thing, the dates, the provider) are read again, not the resource.
    /// </summary>
    internal static ItemFacts? FromOutline(ReadOnlySpan<byte> json, string resourceType, string id, List<TopLevelProperty> outline, IntArena? store = null)
    {
        var names = ElementNames.For(resourceType);
        (string System, string Code)? code = null;
        string? start = null, providerOds = null, encounterClass = null;
        // An event with no date of the kind compared (none, a free-text or an instant one) is matched with nothing.
        var day = names.DayDateTime is null ? "" : null;
        var hasProvider = false;
        var layout = Layout is { Capacity: <= MaxReusedCapacity * 4 } reused ? reused : Layout = [];
        layout.Clear();
        try
        {
            foreach (var (name, nameStart, valueStart, end) in outline)
            {
                var element = names.Classify(name);
                if (element == Element.Other)
                {
                    Add(layout, (int)(name == "resourceType" ? Part.ResourceType : Part.Element), nameStart, valueStart, end);
                    continue;
                }

                // The value alone, read from its first token; offsets it reports are from valueStart.
                var reader = new Utf8JsonReader(json[valueStart..end], new JsonReaderOptions { MaxDepth = 256 });
                reader.Read();
                switch (element)
                {
                    case Element.Meta when !ReadMeta(ref reader, layout, valueStart):
                        return null;
                    case Element.Meta:
                        continue;
                    case Element.Code:
                        code = reader.TokenType == JsonTokenType.StartObject ? FirstCoding(ref reader) : null;
                        break;
                    case Element.DayDateTime:
                        day = reader.TokenType == JsonTokenType.String ? DayOf(ref reader) : null;
                        break;
                    case Element.DayPeriod:
                        day = (reader.TokenType == JsonTokenType.StartObject ? PeriodStartOf(ref reader) : null) is { Length: >= 10 } performed ? performed[..10] : null;
                        break;
                    case Element.Period:
                        start = reader.TokenType == JsonTokenType.StartObject ? PeriodStartOf(ref reader) : null;
                        break;
                    case Element.Provider:
                        hasProvider = reader.TokenType == JsonTokenType.StartObject;
                        providerOds = hasProvider ? OdsIdentifierOf(ref reader) : null;
                        break;
                    case Element.Class:
                        encounterClass = reader.TokenType == JsonTokenType.StartObject ? CodeOf(ref reader) : null;
                        break;
                }

                Add(layout, (int)Part.Element, nameStart, valueStart, end);
            }
        }
        catch (JsonException)
        {
            return null;
        }

        var kind = resourceType switch
        {
            "AllergyIntolerance" => "allergy",
            "Condition" => "condition",
            "MedicationStatement" or "MedicationRequest" => "medicine",
            "Immunization" => "immunisation",
            "Procedure" => "procedure",
            "Observation" => "observation",
            _ => null,
        };
        var key = kind is not null
            ? code is not { } coding || day is null ? (SameItemKey?)null : new SameItemKey(kind, coding.System, coding.Code, day)
            : resourceType == "Encounter" && start is { Length: >= 10 } && encounterClass is not null ? new SameItemKey("encounter", "", encounterClass, start[..10]) : null;
        return new ItemFacts(resourceType, id) { SameItemKey = key, HasProvider = hasProvider, ProviderOdsCode = providerOds, PeriodStart = start, Parts = store is null ? layout.ToArray() : store.Store(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(layout)) };
    }

    private enum Element
    {
        Other,
        Meta,
        Code,
        DayDateTime,
        DayPeriod,
        Period,
        Provider,
        Class,
    }

    /// <summary>The top-level element names that matter for one resource type (null: none of that kind).</summary>
    private sealed record ElementNames(string? Code, string? DayDateTime = null, string? DayPeriod = null, string? Period = null, string? Provider = null, string? Class = null)
    {
        private static readonly ElementNames Plain = new("code");
        private static readonly Dictionary<string, ElementNames> ByType = new(StringComparer.Ordinal)
        {
            ["Immunization"] = new("vaccineCode", DayDateTime: "occurrenceDateTime"),
            ["MedicationStatement"] = new("medicationCodeableConcept"),
            ["MedicationRequest"] = new("medicationCodeableConcept"),
            ["Procedure"] = new("code", DayDateTime: "performedDateTime", DayPeriod: "performedPeriod"),
            ["Observation"] = new("code", DayDateTime: "effectiveDateTime", DayPeriod: "effectivePeriod"),
            ["Encounter"] = new(null, Period: "period", Provider: "serviceProvider", Class: "class"),
            ["EpisodeOfCare"] = new(null, Period: "period", Provider: "managingOrganization"),
        };

        public static ElementNames For(string resourceType) => ByType.TryGetValue(resourceType, out var names) ? names : Plain;

        public Element Classify(string name) =>
            name == "meta" ? Element.Meta
            : name == Code ? Element.Code
            : name == DayDateTime ? Element.DayDateTime
            : name == DayPeriod ? Element.DayPeriod
            : name == Period ? Element.Period
            : name == Provider ? Element.Provider
            : name == Class ? Element.Class
            : Element.Other;
    }

    /// <summary>
    /// The meta's properties into the layout: source (which the gateway replaces) left out, tag's items one by one
    /// (added to); false when meta is not an object or tag not a list of objects.
    /// </summary>
    private static bool ReadMeta(ref Utf8JsonReader reader, List<int> layout, int offset)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var nameStart = offset + (int)reader.TokenStartIndex;
            var isTag = reader.ValueTextEquals("tag"u8);
            var isSource = reader.ValueTextEquals("source"u8) || reader.ValueTextEquals("_source"u8);
            reader.Read();
            var valueStart = offset + (int)reader.TokenStartIndex;
            if (!isTag)
            {
                reader.Skip();
                if (!isSource)
                {
                    Add(layout, (int)Part.Meta, nameStart, valueStart, offset + (int)reader.BytesConsumed);
                }

                continue;
            }

            if (reader.TokenType != JsonTokenType.StartArray)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    return false;
                }

                var tagStart = offset + (int)reader.TokenStartIndex;
                reader.Skip();
                Add(layout, (int)Part.Tag, tagStart, tagStart, offset + (int)reader.BytesConsumed);
            }
        }

        return true;
    }

    /// <summary>The system and code of a CodeableConcept's first coding that has both; the reader ends on its closing brace.</summary>
    private static (string System, string Code)? FirstCoding(ref Utf8JsonReader reader)
    {
        (string, string)? found = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isCoding = reader.ValueTextEquals("coding"u8);
            reader.Read();
            if (!isCoding || reader.TokenType != JsonTokenType.StartArray)
            {
                reader.Skip();
                continue;
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                var (system, code) = SystemAndCode(ref reader);
                if (found is null && !string.IsNullOrEmpty(system) && !string.IsNullOrEmpty(code))
                {
                    found = (system, code);
                }
            }
        }

        return found;
    }

    private static string? CodeOf(ref Utf8JsonReader reader) => SystemAndCode(ref reader).Code;

    private static (string? System, string? Code) SystemAndCode(ref Utf8JsonReader reader) => SystemAnd(ref reader, "code"u8);

    /// <summary>A Coding's or an Identifier's <c>system</c> and its <paramref name="other"/> string; the reader ends on its closing brace.</summary>
    private static (string? System, string? Other) SystemAnd(ref Utf8JsonReader reader, ReadOnlySpan<byte> other)
    {
        string? system = null, value = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("system"u8))
            {
                reader.Read();
                system = reader.TokenType == JsonTokenType.String ? NameCache.Get(ref reader) : Skip(ref reader);
            }
            else if (reader.ValueTextEquals(other))
            {
                reader.Read();
                value = reader.TokenType == JsonTokenType.String ? NameCache.Get(ref reader) : Skip(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return (system, value);
    }

    /// <summary>
    /// The day of a dateTime: its first ten characters, as sent. Days repeat across records (there are only so many), so
    /// they are kept once each rather than made per item.
    /// </summary>
    private static string? DayOf(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped && !reader.HasValueSequence && reader.ValueSpan.Length >= 10 && System.Text.Ascii.IsValid(reader.ValueSpan[..10]))
        {
            return Days.Get(reader.ValueSpan[..10]);
        }

        return reader.GetString() is { Length: >= 10 } value ? value[..10] : null;
    }

    private static readonly StringTable Days = new(1024, 10);

    private static string? PeriodStartOf(ref Utf8JsonReader reader)
    {
        string? start = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isStart = reader.ValueTextEquals("start"u8);
            reader.Read();
            if (isStart && reader.TokenType == JsonTokenType.String)
            {
                start = reader.GetString();
            }
            else
            {
                reader.Skip();
            }
        }

        return start;
    }

    /// <summary>The ODS code of a Reference named by an ODS identifier.</summary>
    private static string? OdsIdentifierOf(ref Utf8JsonReader reader)
    {
        string? ods = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isIdentifier = reader.ValueTextEquals("identifier"u8);
            reader.Read();
            if (isIdentifier && reader.TokenType == JsonTokenType.StartObject)
            {
                var (system, value) = SystemAnd(ref reader, "value"u8);
                ods = system == Onboarding.OdsCode.System ? value : null;
            }
            else
            {
                reader.Skip();
            }
        }

        return ods;
    }

    private static void Add(List<int> layout, int part, int nameStart, int valueStart, int end)
    {
        layout.Add(part);
        layout.Add(nameStart);
        layout.Add(valueStart);
        layout.Add(end);
    }

    private static string? Skip(ref Utf8JsonReader reader)
    {
        reader.Skip();
        return null;
    }
}
