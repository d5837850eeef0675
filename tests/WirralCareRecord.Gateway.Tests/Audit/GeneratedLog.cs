using System.Globalization;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Tests.Audit;

/// <summary>One access of a generated log, as the test knows it (not as the gateway reads it back).</summary>
internal sealed record GeneratedAccess(
    DateTimeOffset Recorded,
    AccessKind Kind,
    int Status,
    string? User,
    string? Ods,
    string? Nhs,
    bool BreakGlass,
    IReadOnlyList<(string Ods, string Outcome)> Sources)
{
    public bool IsFederated => Kind == AccessKind.FederatedRead;

    public bool IsRecordRead => Kind is AccessKind.FederatedRead or AccessKind.SourceRead;
}

/// <summary>
/// A log of known content: a few organisations (kinds and staff counts known, or not), their staff, twenty patients and
/// every kind of access the report counts or must ignore, spread over days and hours by a seeded random walk.
/// </summary>
internal static class GeneratedLog
{
    public static IReadOnlyList<Organisation> Organisations { get; } =
    [
        Organisation("N85001", OrganisationKind.GpPractice, 12),
        Organisation("N85002", OrganisationKind.GpPractice, null),
        Organisation("N85003", OrganisationKind.GpPractice, 8),
        Organisation("RBL", OrganisationKind.AcuteTrust, 60),
        Organisation("RY7", OrganisationKind.CommunityTrust, 25),
    ];

    private static readonly (string User, string Ods)[] Staff =
    [
        ("gp1-a", "N85001"), ("gp1-b", "N85001"), ("gp1-c", "N85001"), ("gp1-d", "N85001"),
        ("gp2-a", "N85002"), ("gp2-b", "N85002"),
        ("rbl-a", "RBL"), ("rbl-b", "RBL"), ("rbl-c", "RBL"), ("rbl-d", "RBL"), ("rbl-e", "RBL"),
        ("ry7-a", "RY7"), ("ry7-b", "RY7"), ("ry7-c", "RY7"),
    ];

    private static readonly string[] Sources = ["N85001", "RBL", "RY7"];

    public static IReadOnlyList<string> Patients { get; } = [.. Enumerable.Range(0, 40)
        .Select(i => (900_000_000 + i * 37).ToString(CultureInfo.InvariantCulture))
        .Select(nine => NhsNumber.CalculateCheckDigit(nine) is { } check ? nine + check.ToString(CultureInfo.InvariantCulture) : null)
        .OfType<string>()
        .Take(20)];

    public static List<GeneratedAccess> Generate(DateOnly first, int days, int seed, int perDay = 30)
    {
        var random = new Random(seed);
        var accesses = new List<GeneratedAccess>();
        for (var d = 0; d < days; d++)
        {
            var day = first.AddDays(d);
            var count = random.Next(perDay);
            for (var i = 0; i < count; i++)
            {
                var recorded = new DateTimeOffset(day.ToDateTime(new TimeOnly(8 + random.Next(10), random.Next(60), random.Next(60))), TimeSpan.Zero);
                var (user, ods) = Staff[random.Next(Staff.Length)];
                var nhs = Patients[random.Next(Patients.Count)];
                var roll = random.NextDouble();
                accesses.Add(roll switch
                {
                    < 0.55 => Federated(recorded, user, ods, nhs, breakGlass: false, random),
                    < 0.62 => new GeneratedAccess(recorded, AccessKind.FederatedRead, 404, user, ods, nhs, false, [.. Sources.Select(s => (s, "no-match"))]),
                    < 0.68 => new GeneratedAccess(recorded, AccessKind.FederatedRead, 403, user, ods, nhs, false, []),
                    < 0.71 => new GeneratedAccess(recorded, AccessKind.SourceRead, 429, user, ods, null, false, []),
                    < 0.78 => Federated(recorded, user, ods, nhs, breakGlass: true, random),
                    < 0.88 => new GeneratedAccess(recorded, AccessKind.SourceRead, 200, user, ods, null, random.Next(4) == 0, [(Sources[random.Next(3)], "returned")]),
                    < 0.93 => new GeneratedAccess(recorded, AccessKind.FederatedRead, 401, null, null, nhs, false, []),
                    _ => new GeneratedAccess(recorded, AccessKind.AdminAction, 200, "admin-1", "X26", null, false, []),
                });
            }
        }

        return accesses;
    }

    public static AuditEntry ToEntry(GeneratedAccess access, int n)
    {
        var request = access.Kind switch
        {
            AccessKind.FederatedRead => "GET /fhir/Patient/$wcr-getrecord",
            AccessKind.SourceRead => $"GET /sources/{(access.Sources.Count > 0 ? access.Sources[0].Ods : "RBL")}/fhir/Condition?patient=p1",
            _ => "PUT /admin/organisations/N85001",
        };
        var audit = new AccessAudit(
            access.Kind,
            "gen-" + n.ToString(CultureInfo.InvariantCulture),
            access.User,
            null,
            access.User is null ? [] : ["Clinician"],
            access.Ods,
            "TREAT",
            access.Nhs,
            request,
            access.Status,
            null,
            [.. access.Sources.Select(s => new SourceAuditEntry(s.Ods, s.Outcome, s.Outcome == "returned" ? 3 : 0, 0, 1))],
            access.BreakGlass ? "Unconscious patient in ED, no other history" : null,
            access.Kind == AccessKind.AdminAction ? "Organization/N85001" : null);
        return new AuditEntry(audit, access.Recorded, "generator", ods => Organisations.FirstOrDefault(o => o.OdsCode == ods)?.Kind);
    }

    private static GeneratedAccess Federated(DateTimeOffset recorded, string user, string ods, string nhs, bool breakGlass, Random random)
    {
        var sources = Sources.Select(s => (s, random.NextDouble() switch
        {
            < 0.6 => "returned",
            < 0.9 => "no-match",
            _ => "timed-out",
        })).ToList();
        var status = sources.Any(s => s.Item2 == "returned") ? 200 : sources.Any(s => s.Item2 == "timed-out") ? 502 : 404;
        return new GeneratedAccess(recorded, AccessKind.FederatedRead, status, user, ods, nhs, breakGlass, sources);
    }

    private static Organisation Organisation(string ods, OrganisationKind kind, int? staff) =>
        new(ods, ods + " organisation", kind, new Uri($"http://127.0.0.1:9/{ods}/fhir"), 1, LifecycleState.Live, StaffCount: staff);
}

/// <summary>The story-once figures of a generated log, worked out from what the test generated, by the Measure's definitions.</summary>
internal sealed record ExpectedFigures(
    int Retrievals,
    int DistinctStaff,
    int DistinctPatients,
    int SettingsReturned,
    int MultiSetting,
    int FailedSource,
    int NotFound,
    int Refusals,
    int BreakGlass)
{
    public static ExpectedFigures Of(IEnumerable<GeneratedAccess> accesses)
    {
        var all = accesses.ToList();
        var retrievals = all.Where(a => a.IsFederated && a.Status == 200).ToList();
        return new ExpectedFigures(
            retrievals.Count,
            retrievals.Select(a => a.User).Distinct().Count(),
            retrievals.Select(a => a.Nhs).Distinct().Count(),
            retrievals.SelectMany(a => a.Sources.Where(s => s.Outcome == "returned").Select(s => s.Ods)).Distinct().Count(),
            retrievals.Count(a => a.Sources.Count(s => s.Outcome == "returned") >= 2),
            all.Count(a => a.IsFederated && a.Sources.Any(s => s.Outcome == "timed-out")),
            all.Count(a => a.IsFederated && a.Status == 404),
            all.Count(a => a.IsRecordRead && a.Status is 401 or 403 or 429),
            all.Count(a => a.IsRecordRead && a.BreakGlass && a.Status == 200));
    }
}
