using System.Globalization;

namespace WirralCareRecord.Demo.Population;

/// <summary>NHS numbers for synthetic people, from the 999/900 test range so they can never belong to anyone.</summary>
public static class NhsNumber
{
    /// <summary>The identifier system for NHS numbers in NHS England FHIR APIs.</summary>
    public const string System = "https://fhir.nhs.uk/Id/nhs-number";

    /// <summary>
    /// The <paramref name="count"/> valid numbers of the sequence 9000000009, 9000000017, 9000000025…: the first nine
    /// digits count up from 900000000 and the tenth is the Modulus 11 check digit. Candidates whose check digit
    /// would be 10 are not valid NHS numbers and are skipped.
    /// </summary>
    public static IReadOnlyList<string> TestRange(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var numbers = new List<string>(count);
        for (var stem = 900_000_000L; numbers.Count < count; stem++)
        {
            var digits = stem.ToString(CultureInfo.InvariantCulture);
            if (CheckDigit(digits) is int check)
            {
                numbers.Add(digits + (char)('0' + check));
            }
        }

        return numbers;
    }

    /// <summary>True for ten digits whose last is the Modulus 11 check digit of the first nine.</summary>
    public static bool IsValid(string? value) =>
        value is { Length: 10 } && value.All(char.IsAsciiDigit) && CheckDigit(value[..9]) == value[9] - '0';

    // NHS Data Dictionary, "NHS Number": weights 10 down to 2, check digit 11 - (sum mod 11); 11 becomes 0, 10 is invalid.
    private static int? CheckDigit(string nineDigits)
    {
        var sum = 0;
        for (var i = 0; i < 9; i++)
        {
            sum += (nineDigits[i] - '0') * (10 - i);
        }

        var check = 11 - (sum % 11);
        return check switch
        {
            11 => 0,
            10 => null,
            _ => check,
        };
    }
}
