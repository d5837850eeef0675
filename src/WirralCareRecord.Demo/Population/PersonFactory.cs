using System.Globalization;
using Hl7.Fhir.Model;

namespace WirralCareRecord.Demo.Population;

/// <summary>Makes the person at a given position in the population, the same way every time.</summary>
internal static class PersonFactory
{
    /// <summary>Where a person's records are held; the pattern repeats every 24 people.</summary>
    private enum Spread
    {
        /// <summary>Moved from one demo practice to the other, and known to the hospital and the community trust.</summary>
        AllFour,
        GpAndHospital,
        GpAndCommunity,
        GpHospitalAndCommunity,

        /// <summary>A visitor registered with a practice in North Wales, seen only at the hospital.</summary>
        HospitalOnly,
        GpOnly,
    }

    private static readonly Spread[] Pattern =
    [
        Spread.AllFour, Spread.GpAndHospital, Spread.GpAndHospital, Spread.GpAndCommunity, Spread.GpAndHospital, Spread.HospitalOnly,
        Spread.GpAndHospital, Spread.GpHospitalAndCommunity, Spread.GpAndHospital, Spread.GpOnly, Spread.GpAndHospital, Spread.AllFour,
        Spread.GpAndHospital, Spread.GpAndCommunity, Spread.GpAndHospital, Spread.GpAndHospital, Spread.GpHospitalAndCommunity, Spread.HospitalOnly,
        Spread.GpAndHospital, Spread.GpOnly, Spread.GpAndHospital, Spread.GpAndCommunity, Spread.GpAndHospital, Spread.AllFour,
    ];

    private static readonly string[] Surnames =
    [
        "Jones", "Williams", "Hughes", "Roberts", "Davies", "Evans", "Smith", "Taylor", "Murphy", "Kelly", "Doyle", "McCarthy",
        "Parry", "Owen", "Lloyd", "Thomas", "Edwards", "Griffiths", "Clarke", "Brown", "Wilson", "Johnson", "Walsh", "Quinn",
    ];

    // Given names by the decade people were born in, so an 85-year-old is not called Chloe.
    private static readonly string[] OlderFemale = ["Margaret", "Joan", "Doreen", "Patricia", "Barbara", "Eileen", "Jean", "Sheila"];
    private static readonly string[] OlderMale = ["John", "William", "Peter", "Brian", "Kenneth", "Ronald", "Derek", "Frank"];
    private static readonly string[] MiddleFemale = ["Susan", "Karen", "Julie", "Sarah", "Joanne", "Lisa", "Nicola", "Michelle"];
    private static readonly string[] MiddleMale = ["Paul", "Mark", "David", "Steven", "Andrew", "Gary", "Ian", "Anthony"];
    private static readonly string[] YoungerFemale = ["Olivia", "Amelia", "Emily", "Jessica", "Chloe", "Sophie", "Grace", "Ellie"];
    private static readonly string[] YoungerMale = ["Oliver", "Jack", "Harry", "Callum", "Liam", "Jake", "Ryan", "Dylan"];

    private static readonly SyntheticAddress[] WirralStreets =
    [
        new("Conway Street", "", "Birkenhead", "CH41"),
        new("Old Chester Road", "Rock Ferry", "Birkenhead", "CH42"),
        new("Shrewsbury Road", "Oxton", "Prenton", "CH43"),
        new("Liscard Road", "Liscard", "Wallasey", "CH44"),
        new("Seabank Road", "New Brighton", "Wallasey", "CH45"),
        new("Hoylake Road", "Moreton", "Wirral", "CH46"),
        new("Meols Drive", "Hoylake", "Wirral", "CH47"),
        new("Banks Road", "West Kirby", "Wirral", "CH48"),
        new("Frankby Road", "Greasby", "Wirral", "CH49"),
        new("Telegraph Road", "Heswall", "Wirral", "CH60"),
        new("Thingwall Road", "Irby", "Wirral", "CH61"),
        new("Allport Road", "Bromborough", "Wirral", "CH62"),
        new("Bebington Road", "Bebington", "Wirral", "CH63"),
    ];

    private static readonly SyntheticAddress[] NorthWalesStreets =
    [
        new("Wellington Road", "", "Rhyl", "LL18"),
        new("High Street", "", "Prestatyn", "LL19"),
    ];

    // Postcode inward codes never use C, I, K, M, O or V.
    private const string PostcodeLetters = "ABDEFGHJLNPQRSTUWXYZ";

    public static SyntheticPerson Create(int index, string nhsNumber)
    {
        var random = new Random(1_000_003 * (index + 1));
        var spread = Pattern[index % Pattern.Length];
        var female = index % 2 == 0;
        var age = spread switch
        {
            Spread.AllFour => random.Next(70, 87),
            Spread.GpAndCommunity or Spread.GpHospitalAndCommunity => random.Next(76, 94),
            Spread.HospitalOnly => random.Next(25, 61),
            Spread.GpOnly => random.Next(9, 33),
            _ => random.Next(22, 83),
        };
        var birthDate = SyntheticPopulation.ReferenceDate.AddYears(-age).AddDays(-random.Next(1, 365));

        var names = (birthDate.Year, female) switch
        {
            ( < 1960, true) => OlderFemale,
            ( < 1960, false) => OlderMale,
            ( < 1990, true) => MiddleFemale,
            ( < 1990, false) => MiddleMale,
            (_, true) => YoungerFemale,
            _ => YoungerMale,
        };
        var prefix = (age, female) switch
        {
            ( < 18, _) => "",
            (_, false) => "Mr",
            _ => random.Next(3) == 0 ? "Ms" : "Mrs",
        };

        var street = spread == Spread.HospitalOnly
            ? NorthWalesStreets[random.Next(NorthWalesStreets.Length)]
            : WirralStreets[random.Next(WirralStreets.Length)];
        var postcode = string.Create(CultureInfo.InvariantCulture,
            $"{street.Postcode} {random.Next(1, 10)}{PostcodeLetters[random.Next(PostcodeLetters.Length)]}{PostcodeLetters[random.Next(PostcodeLetters.Length)]}");
        var address = street with { Street = $"{random.Next(1, 180)} {street.Street}", Postcode = postcode };

        // Ofcom keeps 0151 496 0000 to 0999 for drama, so these numbers ring nobody.
        var phone = string.Create(CultureInfo.InvariantCulture, $"0151 496 {(index * 37) % 1000:0000}");

        var practices = SyntheticPopulation.Organisations.Take(2).ToArray();
        var registered = spread == Spread.HospitalOnly ? SyntheticPopulation.OutOfAreaPractice : practices[(index / 2) % 2];
        var previous = spread == Spread.AllFour ? practices.Single(p => p != registered) : null;
        DateOnly? moved = previous is null ? null : SyntheticPopulation.ReferenceDate.AddYears(-random.Next(2, 6)).AddDays(-random.Next(0, 365));

        var heldBy = new List<string>();
        if (spread != Spread.HospitalOnly)
        {
            heldBy.Add(registered.OdsCode);
        }

        if (previous is not null)
        {
            heldBy.Add(previous.OdsCode);
        }

        if (spread is Spread.AllFour or Spread.GpAndHospital or Spread.GpHospitalAndCommunity or Spread.HospitalOnly)
        {
            heldBy.Add(SyntheticPopulation.WirralUniversityTeachingHospital.OdsCode);
        }

        if (spread is Spread.AllFour or Spread.GpAndCommunity or Spread.GpHospitalAndCommunity)
        {
            heldBy.Add(SyntheticPopulation.WirralCommunityHealthAndCare.OdsCode);
        }

        // The first person is the one the README's curl fetches: keep them a recognisable, rich record.
        var conditions = index == 0
            ? [ClinicalCatalogue.Type2Diabetes, ClinicalCatalogue.Hypertension, ClinicalCatalogue.ChronicKidneyDisease]
            : PickConditions(random, age, minimum: spread is Spread.GpAndCommunity or Spread.GpHospitalAndCommunity ? 2 : 0);
        IReadOnlyList<AllergyKind> allergies = index == 0
            ? [ClinicalCatalogue.Penicillin]
            : random.NextDouble() < 0.3 ? [ClinicalCatalogue.Allergies[random.Next(ClinicalCatalogue.Allergies.Count)]] : [];

        return new SyntheticPerson(
            index,
            nhsNumber,
            prefix,
            names[random.Next(names.Length)],
            Surnames[(index * 11) % Surnames.Length],
            female ? AdministrativeGender.Female : AdministrativeGender.Male,
            birthDate,
            address,
            phone,
            registered.OdsCode,
            previous?.OdsCode,
            moved,
            heldBy,
            [.. conditions.Select(c => c.Code.Code)],
            [.. allergies.Select(a => a.Code.Code)]);
    }

    /// <summary>Older people have more conditions; each is weighted by how common it is and open only from its minimum age.</summary>
    private static List<LongTermCondition> PickConditions(Random random, int age, int minimum)
    {
        var count = age switch
        {
            < 18 => random.NextDouble() < 0.3 ? 1 : 0,
            < 40 => random.NextDouble() < 0.5 ? 1 : 0,
            < 65 => 1 + random.Next(2),
            _ => 2 + random.Next(3),
        };
        var open = ClinicalCatalogue.Conditions.Where(c => c.MinimumAge <= age).ToList();
        var picked = new List<LongTermCondition>();
        while (picked.Count < Math.Max(count, minimum) && open.Count > 0)
        {
            var roll = random.Next(open.Sum(c => c.Weight));
            var choice = open.First(c => (roll -= c.Weight) < 0);
            picked.Add(choice);
            open.Remove(choice);
        }

        // Keep the catalogue's order so records list conditions the same way at every source.
        return [.. ClinicalCatalogue.Conditions.Where(picked.Contains)];
    }
}
