using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.PatientMatching;

/// <summary>
/// The demographics one record holds for a patient, as used to corroborate that records found by the same NHS number
/// are about the same person. Values are as recorded (names keep their case and accents; see <see cref="NameNormaliser"/>
/// for how they are compared), except the postcode, which is upper case without spaces.
/// </summary>
/// <param name="Family">The family name, or <see langword="null"/> when none is recorded.</param>
/// <param name="Given">The given names in order; empty when none is recorded (a baby not yet named).</param>
/// <param name="BirthDate">The date of birth as a FHIR date: <c>YYYY</c>, <c>YYYY-MM</c> or <c>YYYY-MM-DD</c>.</param>
/// <param name="Gender">The administrative gender, when recorded.</param>
/// <param name="Postcode">The postcode, upper case with no spaces (<c>CH41 6EY</c> becomes <c>CH416EY</c>).</param>
/// <param name="NhsNumberVerified">
/// Whether the record's NHS number identifier says the number was verified (UK Core NHS number verification status
/// <c>01</c>, "Number present and verified"). A record that says nothing is treated as unverified: absence is unknown,
/// and unknown earns no extra weight when sources are outvoting each other (see <see cref="ReferenceDemographics"/>).
/// </param>
/// <remarks>
/// Record equality compares <see cref="Given"/> by reference; compare names with <see cref="DemographicMatcher"/>.
/// These values are patient-identifiable: never log them.
/// </remarks>
public sealed record Demographics(
    string? Family,
    IReadOnlyList<string> Given,
    string? BirthDate,
    AdministrativeGender? Gender,
    string? Postcode,
    bool NhsNumberVerified)
{
    /// <summary>The UK Core extension on an NHS number identifier saying whether the number was verified.</summary>
    public const string VerificationStatusExtension = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus";

    /// <summary>The verification status code for "Number present and verified".</summary>
    public const string VerifiedCode = "01";

    /// <summary>No demographics at all.</summary>
    public static Demographics Empty { get; } = new(null, [], null, null, null, false);

    /// <summary>The first given name, or <see langword="null"/> when none is recorded.</summary>
    public string? FirstGiven => Given.Count > 0 ? Given[0] : null;

    /// <summary>
    /// Reads a Patient's demographics: the <c>official</c> name, else the <c>usual</c> name, else the first name;
    /// the postcode of the first <c>home</c> address, else of the first address.
    /// </summary>
    public static Demographics From(Patient patient)
    {
        ArgumentNullException.ThrowIfNull(patient);

        var name = patient.Name.FirstOrDefault(n => n.Use == HumanName.NameUse.Official)
            ?? patient.Name.FirstOrDefault(n => n.Use == HumanName.NameUse.Usual)
            ?? patient.Name.FirstOrDefault();
        var address = patient.Address.FirstOrDefault(a => a.Use == Address.AddressUse.Home)
            ?? patient.Address.FirstOrDefault();

        return new Demographics(
            Family: name?.Family is { } family && !string.IsNullOrWhiteSpace(family) ? family.Trim() : null,
            Given: name is null ? [] : [.. name.Given.Where(g => !string.IsNullOrWhiteSpace(g)).Select(g => g!.Trim())],
            BirthDate: string.IsNullOrWhiteSpace(patient.BirthDate) ? null : patient.BirthDate.Trim(),
            Gender: patient.Gender,
            Postcode: NormalisePostcode(address?.PostalCode),
            NhsNumberVerified: IsNhsNumberVerified(patient));
    }

    /// <summary>A postcode in upper case with all white space removed; <see langword="null"/> when missing or blank.</summary>
    public static string? NormalisePostcode(string? postcode)
    {
        if (string.IsNullOrWhiteSpace(postcode))
        {
            return null;
        }

        return string.Concat(postcode.Where(c => !char.IsWhiteSpace(c))).ToUpperInvariant();
    }

    /// <summary>
    /// Whether an NHS number identifier on the Patient carries the verification status extension with code <c>01</c>.
    /// Absent, any other code (<c>02</c> "present but not traced" and so on) or no NHS number at all: not verified.
    /// </summary>
    public static bool IsNhsNumberVerified(Patient patient)
    {
        ArgumentNullException.ThrowIfNull(patient);

        return patient.Identifier
            .Where(i => string.Equals(i.System, NhsNumber.System, StringComparison.Ordinal))
            .SelectMany(i => i.Extension)
            .Where(e => string.Equals(e.Url, VerificationStatusExtension, StringComparison.Ordinal))
            .Select(e => e.Value)
            .OfType<CodeableConcept>()
            .SelectMany(c => c.Coding)
            .Any(c => string.Equals(c.Code, VerifiedCode, StringComparison.Ordinal));
    }
}
