using System.Text.Json;
using System.Text.Json.Serialization;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>One organisation's figures for one day while the day is being rolled up.</summary>
internal sealed class OrganisationDay
{
    public int Retrievals { get; set; }

    public int MultiSetting { get; set; }

    public int FromLocalSystem { get; set; }

    public int ContextLaunch { get; set; }

    public int FailedSource { get; set; }

    public int NotFound { get; set; }

    public int Refusals { get; set; }

    public int BreakGlass { get; set; }

    public HashSet<ulong> Staff { get; } = [];

    public HashSet<ulong> Patients { get; } = [];

    public SortedSet<string> SourcesReturned { get; } = new(StringComparer.Ordinal);

    public OrganisationFigures ToFigures() => new()
    {
        Retrievals = Retrievals,
        MultiSetting = MultiSetting,
        FromLocalSystem = FromLocalSystem,
        ContextLaunch = ContextLaunch,
        FailedSource = FailedSource,
        NotFound = NotFound,
        Refusals = Refusals,
        BreakGlass = BreakGlass,
        Staff = PseudonymSet.Of(Staff),
        Patients = PseudonymSet.Of(Patients),
        SourcesReturned = new SortedSet<string>(SourcesReturned, StringComparer.Ordinal),
    };
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
    public const int CurrentFormat = 2;

    /// <summary>Callers whose organisation is unknown (not signed in): counted in totals, not shown as an organisation.</summary>
    public const string NoOrganisation = "";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public DateOnly Day { get; } = day;

    public string KeyId { get; } = keyId;

    public int Events { get; private set; }

    /// <summary>The day's figures while they are being added up; a roll-up read back from storage has its <see cref="Figures"/> only.</summary>
    private SortedDictionary<string, OrganisationDay> Organisations { get; } = new(StringComparer.Ordinal);

    /// <summary>The kind of setting of each source whose data was returned, as recorded with the access.</summary>
    private SortedDictionary<string, OrganisationKind> SourceSettings { get; } = new(StringComparer.Ordinal);

    private RollupFigures? _figures;

    private bool _readBack;

    public List<BlobCheckpoint> Blobs { get; } = [];

    /// <summary>What the report reads: the sets sorted once here, so every later union is a merge.</summary>
    public RollupFigures Figures => _figures ??= new RollupFigures(
        Events,
        new SortedDictionary<string, OrganisationFigures>(Organisations.ToDictionary(o => o.Key, o => o.Value.ToFigures()), StringComparer.Ordinal),
        new SortedDictionary<string, OrganisationKind>(SourceSettings, StringComparer.Ordinal));

    /// <summary>Folds one event in. The measures are defined in conformance/Measure-wcr-story-once.json; keep the two in step.</summary>
    public void Add(AuditFacts facts, PseudonymKey key, Func<string, OrganisationKind?> settingNow)
    {
        if (_readBack)
        {
            throw new InvalidOperationException("A roll-up read back from storage is complete; build a new one from the log instead.");
        }

        _figures = null;
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
            if (facts.FromLocalSystem)
            {
                organisation.FromLocalSystem++;
            }

            if (facts.Channel == AccessChannel.ContextLaunch)
            {
                organisation.ContextLaunch++;
            }
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
            Figures.Organisations.ToDictionary(o => o.Key, o => OrganisationDocument.Of(o.Value)),
            new Dictionary<string, OrganisationKind>(Figures.SourceSettings),
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

        var rollup = new DayRollup(document.Day, document.KeyId) { Events = document.Events, _readBack = true };
        rollup._figures = new RollupFigures(
            document.Events,
            new SortedDictionary<string, OrganisationFigures>(document.Organisations.ToDictionary(o => o.Key, o => o.Value.ToFigures()), StringComparer.Ordinal),
            new SortedDictionary<string, OrganisationKind>(document.SourceSettings, StringComparer.Ordinal));
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

    private sealed record Document(
        int Format,
        DateOnly Day,
        string KeyId,
        int Events,
        Dictionary<string, OrganisationDocument> Organisations,
        Dictionary<string, OrganisationKind> SourceSettings,
        List<BlobCheckpoint> Blobs);

    /// <summary>One organisation's figures as stored, in day and month roll-ups alike.</summary>
    internal sealed record OrganisationDocument(
        int Retrievals,
        int MultiSetting,
        int FailedSource,
        int NotFound,
        int Refusals,
        int BreakGlass,
        PseudonymSet Staff,
        PseudonymSet Patients,
        List<string> SourcesReturned,
        int FromLocalSystem = 0,
        int ContextLaunch = 0)
    {
        public static OrganisationDocument Of(OrganisationFigures f) =>
            new(f.Retrievals, f.MultiSetting, f.FailedSource, f.NotFound, f.Refusals, f.BreakGlass, f.Staff, f.Patients, [.. f.SourcesReturned], f.FromLocalSystem, f.ContextLaunch);

        public OrganisationFigures ToFigures() => new()
        {
            Retrievals = Retrievals,
            MultiSetting = MultiSetting,
            FromLocalSystem = FromLocalSystem,
            ContextLaunch = ContextLaunch,
            FailedSource = FailedSource,
            NotFound = NotFound,
            Refusals = Refusals,
            BreakGlass = BreakGlass,
            Staff = Staff,
            Patients = Patients,
            SourcesReturned = new SortedSet<string>(SourcesReturned, StringComparer.Ordinal),
        };
    }
}
