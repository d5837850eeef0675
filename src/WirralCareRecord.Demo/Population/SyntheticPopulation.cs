using System.Security.Cryptography;
using System.Text;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Demo.Population;

/// <summary>
/// The synthetic people of Wirral and the source systems that hold their records. Everything is
/// deterministic: the same people, ids and records on every run, so demos, tests and benchmarks can be compared.
/// </summary>
public static class SyntheticPopulation
{
    /// <summary>
    /// The day the records are written up to. Fixed rather than today so the records, and their ids, never change;
    /// only the sharing agreement's dates follow the clock.
    /// </summary>
    public static readonly DateOnly ReferenceDate = new(2026, 11, 1);

    /// <summary>How many ordinary people <see cref="People"/> holds, before the four hard cases.</summary>
    public const int DefaultSize = 24;

    public static DemoOrganisation RiversideMedicalCentre { get; } = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice, 1, "Birkenhead");

    public static DemoOrganisation HoylakeRoadSurgery { get; } = new("N85002", "Hoylake Road Surgery", OrganisationKind.GpPractice, 1, "Moreton");

    /// <summary>A practice that has signed the agreement and awaits its flow test; its system holds no one's record yet.</summary>
    public static DemoOrganisation LiscardGroupPractice { get; } = new("N85003", "Liscard Group Practice", OrganisationKind.GpPractice, 1, "Wallasey");

    public static DemoOrganisation WirralUniversityTeachingHospital { get; } = new("RBL", "Wirral University Teaching Hospital NHS Foundation Trust", OrganisationKind.AcuteTrust, 1, "Arrowe Park");

    public static DemoOrganisation WirralCommunityHealthAndCare { get; } = new("RY7", "Wirral Community Health and Care NHS Foundation Trust", OrganisationKind.CommunityTrust, 2, "Birkenhead");

    /// <summary>
    /// The practice that visitors from North Wales are registered with. It is not a demo source and not in the
    /// registry: their records are found only at the hospital.
    /// </summary>
    public static DemoOrganisation OutOfAreaPractice { get; } = new("W91042", "Bryn Derw Surgery", OrganisationKind.GpPractice, 0, "Rhyl");

    /// <summary>The demo source systems, GP practices first.</summary>
    public static IReadOnlyList<DemoOrganisation> Organisations { get; } =
        [RiversideMedicalCentre, HoylakeRoadSurgery, LiscardGroupPractice, WirralUniversityTeachingHospital, WirralCommunityHealthAndCare];

    /// <summary>
    /// The default population: <see cref="DefaultSize"/> ordinary people, then the four hard cases
    /// (<see cref="DemoHardCase"/>), whose NHS numbers continue the same sequence so the ordinary people's never change.
    /// </summary>
    public static IReadOnlyList<SyntheticPerson> People { get; } = [.. Create(DefaultSize), .. HardCases.Create(DefaultSize)];

    /// <summary>A valid test-range NHS number that no population smaller than 99,000 people contains.</summary>
    public static string UnknownNhsNumber { get; } = NhsNumber.TestRange(99_001)[^1];

    /// <summary>
    /// <paramref name="count"/> ordinary people; the first <see cref="DefaultSize"/> are those in <see cref="People"/>, and the
    /// pattern of who holds whom repeats after that, so a larger population keeps the same mix. Beyond <see cref="DefaultSize"/>
    /// the NHS numbers are the hard cases' numbers, so do not serve a larger population together with <see cref="People"/>.
    /// </summary>
    public static IReadOnlyList<SyntheticPerson> Create(int count) =>
        [.. NhsNumber.TestRange(count).Select((nhsNumber, index) => PersonFactory.Create(index, nhsNumber))];

    /// <summary>
    /// Every resource <paramref name="odsCode"/> holds for <paramref name="people"/>: for each person held there, their
    /// Patient followed by their clinical record. <paramref name="recordSizeMultiplier"/> lengthens the history each
    /// source keeps (at 1 a GP record averages about 40 resources, older people's 50 to 75; at 3 about 100, older people's 110 to 180).
    /// </summary>
    public static IReadOnlyList<Resource> RecordsFor(string odsCode, IEnumerable<SyntheticPerson> people, int recordSizeMultiplier = 1)
    {
        ArgumentNullException.ThrowIfNull(people);
        ArgumentOutOfRangeException.ThrowIfLessThan(recordSizeMultiplier, 1);
        var source = Organisations.SingleOrDefault(o => string.Equals(o.OdsCode, odsCode, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"'{odsCode}' is not one of the demo sources.", nameof(odsCode));

        var resources = new List<Resource>();
        var sequence = 0;
        string NewId(string type) => DeterministicId($"{source.OdsCode}/{type}/{++sequence}");

        foreach (var person in people.Where(p => p.IsHeldBy(source.OdsCode)))
        {
            var chart = new PatientChart(source, person, NewId, resources);
            switch (source.Kind)
            {
                case OrganisationKind.GpPractice:
                    GpRecord.Write(chart, recordSizeMultiplier);
                    break;
                case OrganisationKind.AcuteTrust:
                    HospitalRecord.Write(chart, recordSizeMultiplier);
                    break;
                default:
                    CommunityRecord.Write(chart, recordSizeMultiplier);
                    break;
            }

            HardCases.Complete(chart);
        }

        return resources;
    }

    /// <summary>The demo source or the out-of-area practice with this ODS code.</summary>
    public static DemoOrganisation Practice(string odsCode) =>
        Organisations.Append(OutOfAreaPractice).Single(o => o.OdsCode == odsCode);

    /// <summary>A GUID-shaped id derived from <paramref name="name"/>, as GP and hospital systems use: unique, stable across runs.</summary>
    internal static string DeterministicId(string name) =>
        new Guid(SHA256.HashData(Encoding.UTF8.GetBytes(name)).AsSpan(0, 16)).ToString("D");

    /// <summary>string.GetHashCode differs from run to run; seeds need a hash that does not.</summary>
    internal static int StableHash(string value)
    {
        var hash = 17;
        foreach (var c in value)
        {
            hash = unchecked((hash * 31) + c);
        }

        return hash & 0x7FFF;
    }
}
