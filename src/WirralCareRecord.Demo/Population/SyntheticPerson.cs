using Hl7.Fhir.Model;

namespace WirralCareRecord.Demo.Population;

/// <summary>
/// A synthetic person: the demographics every source holds for them (each source keeps its own Patient with its
/// own id), which sources hold a record, and the long-term picture the sources' clinical records are drawn from.
/// </summary>
/// <param name="Index">Position in the population; seeds the person's records so they are the same every run.</param>
/// <param name="RegisteredGpOdsCode">The practice they are registered with, which may be outside Wirral.</param>
/// <param name="PreviousGpOdsCode">A Wirral practice they left; it still holds their record up to <paramref name="MovedPracticeOn"/>.</param>
/// <param name="HeldBy">ODS codes of the demo sources holding a record for them.</param>
/// <param name="ConditionCodes">SNOMED CT codes of their long-term conditions.</param>
/// <param name="AllergyCodes">SNOMED CT codes of their allergies.</param>
public sealed record SyntheticPerson(
    int Index,
    string NhsNumber,
    string Prefix,
    string GivenName,
    string FamilyName,
    AdministrativeGender Gender,
    DateOnly BirthDate,
    SyntheticAddress Address,
    string Phone,
    string RegisteredGpOdsCode,
    string? PreviousGpOdsCode,
    DateOnly? MovedPracticeOn,
    IReadOnlyList<string> HeldBy,
    IReadOnlyList<string> ConditionCodes,
    IReadOnlyList<string> AllergyCodes)
{
    /// <summary>The safety behaviour this person is in the population to show, if any (see <see cref="HardCases"/>).</summary>
    public DemoHardCase HardCase { get; init; }

    public string DisplayName => $"{GivenName} {FamilyName}";

    public bool IsHeldBy(string odsCode) => HeldBy.Contains(odsCode, StringComparer.OrdinalIgnoreCase);

    /// <summary>Age in whole years on <paramref name="day"/>.</summary>
    public int AgeOn(DateOnly day)
    {
        var age = day.Year - BirthDate.Year;
        return BirthDate > day.AddYears(-age) ? age - 1 : age;
    }
}

/// <summary>A Wirral home address, laid out as UK Core expects: street and locality as lines, then post town.</summary>
public sealed record SyntheticAddress(string Street, string Locality, string PostTown, string Postcode);
