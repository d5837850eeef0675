using System.Globalization;

namespace WirralCareRecord.Gateway.PatientMatching;

/// <summary>
/// NHS numbers: the 10-digit identifier every source is queried by. The last digit is a Modulus 11 check digit
/// (<see href="https://www.datadictionary.nhs.uk/attributes/nhs_number.html">NHS Data Dictionary</see>).
/// </summary>
/// <remarks>
/// Behaviour follows the language-agnostic test vectors of the <c>nhs-number</c> reference implementation
/// (<see href="https://github.com/uk-fci/nhs-number">uk-fci/nhs-number</see> 2.0.0), including its rule that a number in
/// the Scotland CHI range must start with a real DDMMYY date of birth. Nothing here logs, and no problem message repeats
/// the number: NHS numbers must stay out of logs.
/// </remarks>
public static class NhsNumber
{
    /// <summary>The FHIR identifier system for NHS numbers in England, Wales and the Isle of Man.</summary>
    public const string System = "https://fhir.nhs.uk/Id/nhs-number";

    /// <summary>How many digits an NHS number has, check digit included.</summary>
    public const int Length = 10;

    internal const string RequiredProblem = "An NHS number is required.";
    internal const string NonDigitProblem = "The NHS number may contain only digits, spaces and hyphens.";
    internal const string CheckDigitProblem = "The NHS number's check digit does not match (Modulus 11): check it was typed correctly.";
    internal const string ChiDateProblem =
        "The NHS number is in the Scottish CHI range, whose first six digits are a date of birth (DDMMYY), but they are not a real date: check it was typed correctly.";

    /// <summary>
    /// The blocks of numbers allocated to each region, in ascending order, bounds inclusive. Numbers 0 to 9 belong to none.
    /// Boundaries as the reference implementation's <c>constants.py</c>, with the corrected Scotland start (its issue #59).
    /// </summary>
    public static IReadOnlyList<NhsNumberRange> Ranges { get; } =
    [
        new(NhsNumberRegion.Unallocated, 10, 99_999_999),
        new(NhsNumberRegion.Scotland, 100_000_000, 3_112_999_999),
        new(NhsNumberRegion.Unallocated, 3_113_000_000, 3_199_999_999),
        new(NhsNumberRegion.NorthernIreland, 3_200_000_000, 3_999_999_999),
        new(NhsNumberRegion.EnglandWalesIsleOfMan, 4_000_000_000, 4_999_999_999),
        new(NhsNumberRegion.Reserved, 5_000_000_000, 5_999_999_999),
        new(NhsNumberRegion.EnglandWalesIsleOfMan, 6_000_000_000, 7_999_999_999),
        new(NhsNumberRegion.Eire, 8_000_000_000, 8_599_999_999),
        new(NhsNumberRegion.Unallocated, 8_600_000_000, 8_999_999_999),
        new(NhsNumberRegion.Synthetic, 9_000_000_000, 9_999_999_999),
    ];

    /// <summary>
    /// Trims the input and removes spaces and hyphens (<c>"987 654 3210"</c> and <c>"987-654-3210"</c> become
    /// <c>"9876543210"</c>). Returns <c>""</c> when the input is missing or anything other than digits remains.
    /// </summary>
    /// <remarks>Only the format is standardised: the result may have the wrong length. Use <see cref="Check"/> to validate.</remarks>
    public static string Standardise(string? input)
    {
        if (input is null)
        {
            return "";
        }

        var digits = input.Trim().Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
        return digits.All(char.IsAsciiDigit) ? digits : "";
    }

    /// <summary>
    /// The Modulus 11 check digit for the first nine digits of an NHS number: weights 10 down to 2, then
    /// 11 minus the remainder, with 11 becoming 0. Returns 10 when no check digit can make the number valid,
    /// and <see langword="null"/> unless given exactly nine digits.
    /// </summary>
    public static int? CalculateCheckDigit(string nineDigits)
    {
        if (nineDigits is null || nineDigits.Length != Length - 1 || !nineDigits.All(char.IsAsciiDigit))
        {
            return null;
        }

        var sum = 0;
        for (var i = 0; i < nineDigits.Length; i++)
        {
            sum += (nineDigits[i] - '0') * (10 - i);
        }

        var checkDigit = 11 - (sum % 11);
        return checkDigit == 11 ? 0 : checkDigit;
    }

    /// <summary>
    /// Validates an NHS number as typed or sent, saying what is wrong in words a clinician can act on.
    /// The problem never repeats the number, so it is safe to show, return in an OperationOutcome or log.
    /// </summary>
    public static NhsNumberCheck Check(string? input)
    {
        if (string.IsNullOrWhiteSpace(input))
        {
            return Invalid(RequiredProblem);
        }

        var digits = Standardise(input);
        if (digits.Length == 0)
        {
            // Standardise returns "" for both "only separators" and "something other than digits".
            return Invalid(input.Any(c => c is not (' ' or '-') && !char.IsWhiteSpace(c)) ? NonDigitProblem : RequiredProblem);
        }

        if (digits.Length != Length)
        {
            return Invalid(string.Create(CultureInfo.InvariantCulture, $"An NHS number has {Length} digits; this has {digits.Length}."));
        }

        // A calculated check digit of 10 never matches a single digit, so such numbers fail here too.
        if (CalculateCheckDigit(digits[..^1]) != digits[^1] - '0')
        {
            return Invalid(CheckDigitProblem);
        }

        if (RegionOfDigits(digits) == NhsNumberRegion.Scotland && !StartsWithRealDate(digits))
        {
            return Invalid(ChiDateProblem);
        }

        return new NhsNumberCheck(true, digits, null);
    }

    /// <summary>Whether the input is a valid NHS number (see <see cref="Check"/> for why not).</summary>
    public static bool IsValid(string? input) => Check(input).IsValid;

    /// <summary>Whether the input is a valid NHS number allocated to <paramref name="region"/>.</summary>
    public static bool IsValidForRegion(string? input, NhsNumberRegion region)
    {
        var check = Check(input);
        return check.IsValid && RegionOfDigits(check.Value!) == region;
    }

    /// <summary>
    /// The region whose range holds the number, whether or not its check digit is right; <see langword="null"/> when the
    /// input is not 10 digits, or is below the lowest range (<c>0000000000</c> to <c>0000000009</c>).
    /// </summary>
    public static NhsNumberRegion? RegionOf(string? input)
    {
        var digits = Standardise(input);
        return digits.Length == Length ? RegionOfDigits(digits) : null;
    }

    private static NhsNumberRegion? RegionOfDigits(string tenDigits)
    {
        var number = long.Parse(tenDigits, NumberStyles.None, CultureInfo.InvariantCulture);
        foreach (var range in Ranges)
        {
            if (range.Contains(number))
            {
                return range.Region;
            }
        }

        return null;
    }

    /// <summary>Whether the first six digits are a real DDMMYY date, as a Scotland CHI number's must be.</summary>
    private static bool StartsWithRealDate(string digits)
    {
        var day = int.Parse(digits.AsSpan(0, 2), NumberStyles.None, CultureInfo.InvariantCulture);
        var month = int.Parse(digits.AsSpan(2, 2), NumberStyles.None, CultureInfo.InvariantCulture);
        var twoDigitYear = int.Parse(digits.AsSpan(4, 2), NumberStyles.None, CultureInfo.InvariantCulture);

        // The century only matters for 29 February. The reference implementation parses with Python's %y,
        // which reads 00-68 as 2000-2068 and 69-99 as 1969-1999; do the same so the same numbers pass.
        var year = twoDigitYear <= 68 ? 2000 + twoDigitYear : 1900 + twoDigitYear;
        return month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth(year, month);
    }

    private static NhsNumberCheck Invalid(string problem) => new(false, null, problem);
}

/// <summary>The outcome of <see cref="NhsNumber.Check"/>.</summary>
/// <param name="IsValid">Whether the input is a valid NHS number.</param>
/// <param name="Value">The standardised 10 digits when valid; otherwise <see langword="null"/>.</param>
/// <param name="Problem">When invalid, a sentence for a clinician saying what is wrong. Never contains the number.</param>
public sealed record NhsNumberCheck(bool IsValid, string? Value, string? Problem);

/// <summary>Who allocated a block of NHS numbers (the reference implementation's <c>REGION_*</c> constants).</summary>
public enum NhsNumberRegion
{
    /// <summary>Not allocated to anyone; no patient should have one.</summary>
    Unallocated,

    /// <summary>Scotland's Community Health Index (CHI): <c>DDMMYY</c> date of birth, serial, check digit.</summary>
    Scotland,

    /// <summary>Northern Ireland Health and Care (H&amp;C) numbers.</summary>
    NorthernIreland,

    /// <summary>NHS numbers issued in England, Wales and the Isle of Man.</summary>
    EnglandWalesIsleOfMan,

    /// <summary>Reserved: not to be issued.</summary>
    Reserved,

    /// <summary>Republic of Ireland Individual Health Identifiers (IHI).</summary>
    Eire,

    /// <summary>Not to be issued to patients: synthetic and test patients (PDS test data lives here).</summary>
    Synthetic,
}

/// <summary>An inclusive block of NHS numbers allocated to one region, as numbers (leading zeros dropped).</summary>
public sealed record NhsNumberRange(NhsNumberRegion Region, long Start, long End)
{
    public bool Contains(long number) => number >= Start && number <= End;
}
