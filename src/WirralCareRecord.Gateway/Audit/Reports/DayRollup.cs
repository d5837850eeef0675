using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// One organisation's figures for one day: the counts of the story-once measures, and the exact sets (of pseudonyms)
/// that distinct counts over longer periods are unions of. Distinct staff in a month is not the sum of distinct staff
/// per day; the union of the days' sets is exact.
/// </summary>
internal sealed class OrganisationDay
{
    public int Retrievals { get; set; }

    public int MultiSetting { get; set; }

    public int FailedSource { get; set; }

    public int NotFound { get; set; }

    public int Refusals { get; set; }

    public int BreakGlass { get; set; }

    public HashSet<ulong> Staff { get; } = [];

    public HashSet<ulong> Patients { get; } = [];

    public SortedSet<string> SourcesReturned { get; } = new(StringComparer.Ordinal);
}

/// <summary>What a blob held when its day was rolled up: lets <c>$verify</c> notice a blob shortened or its last line edited later.</summary>
internal sealed record BlobCheckpoint(string Name, int Lines, string LastHash);

/// <summary>
/// The story-once figures of one UTC day, per caller organisation, made from the day's raw log (<see cref="Add"/> is the
/// only place the measures' rules are applied). Sealed days are stored as JSON under <c>rollups/yyyy/MM/dd.json</c>;
/// the report reads those instead of the log.
/// </summary>
internal sealed class DayRollup(DateOnly day, string keyId)
{
    /// <summary>Bumped whenever <see cref="Add"/> changes, so stored roll-ups made by older rules are rebuilt.</summary>
    public const int CurrentFormat = 1;

    /// <summary>Callers whose organisation is unknown (not signed in): counted in totals, not shown as an organisation.</summary>
    public const string NoOrganisation = "";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public DateOnly Day { get; } = day;

    public string KeyId { get; } = keyId;

    public int Events { get; private set; }

    public SortedDictionary<string, OrganisationDay> Organisations { get; } = new(StringComparer.Ordinal);

    /// <summary>The kind of setting of each source whose data was returned, as recorded with the access.</summary>
    public SortedDictionary<string, OrganisationKind> SourceSettings { get; } = new(StringComparer.Ordinal);

    public List<BlobCheckpoint> Blobs { get; } = [];

    /// <summary>Folds one event in. The measures are defined in conformance/Measure-wcr-story-once.json; keep the two in step.</summary>
    public void Add(AuditFacts facts, PseudonymKey key, Func<string, OrganisationKind?> settingNow)
    {
        Events++;
        if (!facts.IsRecordRead)
        {
            // Admin actions, auditors' and operators' own requests: not record reads.
            return;
        }

        var organisation = Organisation(facts.OrganisationOds ?? NoOrganisation);
        if (facts.IsFederatedRead && facts.Succeeded)
        {
            organisation.Retrievals++;
            if (facts.UserId is { } user)
            {
                organisation.Staff.Add(key.Staff(user));
            }

            if (facts.NhsNumber is { } nhs)
            {
                organisation.Patients.Add(key.Patient(nhs));
            }

            var returned = facts.Sources.Where(s => s.Outcome == "returned").ToList();
            foreach (var source in returned)
            {
                organisation.SourcesReturned.Add(source.OdsCode);
                if ((source.Setting ?? settingNow(source.OdsCode)) is { } setting)
                {
                    SourceSettings[source.OdsCode] = setting;
                }
            }

            if (returned.Select(s => s.OdsCode).Distinct(StringComparer.Ordinal).Count() >= 2)
            {
                organisation.MultiSetting++;
            }
        }

        if (facts.IsFederatedRead && facts.Sources.Any(s => AuditFacts.FailedOutcomes.Contains(s.Outcome)))
        {
            organisation.FailedSource++;
        }

        if (facts.IsFederatedRead && facts.HttpStatus == 404)
        {
            organisation.NotFound++;
        }

        if (facts.Refused)
        {
            organisation.Refusals++;
        }

        if (facts.BreakGlass && facts.Succeeded)
        {
            organisation.BreakGlass++;
        }
    }

    public BinaryData ToJson() => BinaryData.FromObjectAsJson(
        new Document(
            CurrentFormat,
            Day,
            KeyId,
            Events,
            Organisations.ToDictionary(o => o.Key, o => new OrganisationDocument(
                o.Value.Retrievals,
                o.Value.MultiSetting,
                o.Value.FailedSource,
                o.Value.NotFound,
                o.Value.Refusals,
                o.Value.BreakGlass,
                Pack(o.Value.Staff),
                Pack(o.Value.Patients),
                [.. o.Value.SourcesReturned])),
            new Dictionary<string, OrganisationKind>(SourceSettings),
            Blobs),
        Json);

    /// <summary>A stored roll-up, or null when it was made by other rules or another key and must be rebuilt.</summary>
    public static DayRollup? FromJson(BinaryData json, string keyId)
    {
        var document = JsonSerializer.Deserialize<Document>(json.ToMemory().Span, Json);
        if (document is null || document.Format != CurrentFormat || document.KeyId != keyId)
        {
            return null;
        }

        var rollup = new DayRollup(document.Day, document.KeyId) { Events = document.Events };
        foreach (var (ods, figures) in document.Organisations)
        {
            var organisation = rollup.Organisation(ods);
            organisation.Retrievals = figures.Retrievals;
            organisation.MultiSetting = figures.MultiSetting;
            organisation.FailedSource = figures.FailedSource;
            organisation.NotFound = figures.NotFound;
            organisation.Refusals = figures.Refusals;
            organisation.BreakGlass = figures.BreakGlass;
            Unpack(figures.Staff, organisation.Staff);
            Unpack(figures.Patients, organisation.Patients);
            organisation.SourcesReturned.UnionWith(figures.SourcesReturned);
        }

        foreach (var (ods, setting) in document.SourceSettings)
        {
            rollup.SourceSettings[ods] = setting;
        }

        rollup.Blobs.AddRange(document.Blobs);
        return rollup;
    }

    private OrganisationDay Organisation(string ods)
    {
        if (!Organisations.TryGetValue(ods, out var organisation))
        {
            Organisations[ods] = organisation = new OrganisationDay();
        }

        return organisation;
    }

    /// <summary>A set of pseudonyms as base64 of its sorted 8-byte values: compact, and the same bytes for the same set.</summary>
    private static string Pack(HashSet<ulong> set)
    {
        var values = set.Order().ToArray();
        var bytes = new byte[values.Length * sizeof(ulong)];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(i * sizeof(ulong)), values[i]);
        }

        return Convert.ToBase64String(bytes);
    }

    private static void Unpack(string packed, HashSet<ulong> into)
    {
        var bytes = Convert.FromBase64String(packed);
        for (var i = 0; i + sizeof(ulong) <= bytes.Length; i += sizeof(ulong))
        {
            into.Add(BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(i)));
        }
    }

    private sealed record Document(
        int Format,
        DateOnly Day,
        string KeyId,
        int Events,
        Dictionary<string, OrganisationDocument> Organisations,
        Dictionary<string, OrganisationKind> SourceSettings,
        List<BlobCheckpoint> Blobs);

    private sealed record OrganisationDocument(
        int Retrievals,
        int MultiSetting,
        int FailedSource,
        int NotFound,
        int Refusals,
        int BreakGlass,
        string Staff,
        string Patients,
        List<string> SourcesReturned);
}
