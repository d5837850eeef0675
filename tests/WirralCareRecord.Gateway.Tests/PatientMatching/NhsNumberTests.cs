using System.Text.Json.Nodes;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Tests.PatientMatching;

public class NhsNumberTests
{
    // Reference vectors: every case in Fixtures/nhs-number/nhs_number_cases.json.

    public static TheoryData<string, int?> ChecksumVectors() =>
        ToTheoryData(NhsNumberVectors.Section("calculate_checksum"), c => ((string)c["identifier"]!, (int?)c["checksum"]));

    public static TheoryData<string, string> StandardiseVectors() =>
        ToTheoryData(NhsNumberVectors.Section("standardise"), c => ((string)c["input"]!, (string)c["output"]!));

    public static TheoryData<string, bool> IsValidVectors() =>
        ToTheoryData(NhsNumberVectors.Section("is_valid"), c => ((string)c["input"]!, (bool)c["valid"]!));

    public static TheoryData<string, string, bool> IsValidForRegionVectors()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var c in NhsNumberVectors.Section("is_valid_for_region"))
        {
            data.Add((string)c["input"]!, (string)c["region"]!, (bool)c["valid"]!);
        }

        return data;
    }

    public static TheoryData<string, string> RegionOfVectors() =>
        ToTheoryData(NhsNumberVectors.Section("region_of"), c => ((string)c["number"]!, (string)c["region"]!));

    public static TheoryData<string, long, long> RangeBoundaryVectors()
    {
        var data = new TheoryData<string, long, long>();
        foreach (var c in NhsNumberVectors.Section("range_boundaries"))
        {
            data.Add((string)c["range"]!, (long)c["start"]!, (long)c["end"]!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ChecksumVectors))]
    public void CalculateCheckDigit_ReferenceVector_MatchesReference(string identifier, int? expected)
    {
        // Act
        var checkDigit = NhsNumber.CalculateCheckDigit(identifier);

        // Assert
        Assert.Equal(expected, checkDigit);
    }

    [Theory]
    [MemberData(nameof(StandardiseVectors))]
    public void Standardise_ReferenceVector_MatchesReference(string input, string expected)
    {
        // Act
        var standardised = NhsNumber.Standardise(input);

        // Assert
        Assert.Equal(expected, standardised);
    }

    [Theory]
    [MemberData(nameof(IsValidVectors))]
    public void IsValid_ReferenceVector_MatchesReference(string input, bool expected)
    {
        // Act
        var isValid = NhsNumber.IsValid(input);

        // Assert
        Assert.Equal(expected, isValid);
    }

    [Theory]
    [MemberData(nameof(IsValidForRegionVectors))]
    public void IsValidForRegion_ReferenceVector_MatchesReference(string input, string region, bool expected)
    {
        // Arrange
        var nhsRegion = NhsNumberVectors.Region(region);

        // Act
        var isValid = NhsNumber.IsValidForRegion(input, nhsRegion);

        // Assert
        Assert.Equal(expected, isValid);
    }

    [Theory]
    [MemberData(nameof(RegionOfVectors))]
    public void RegionOf_ReferenceVector_MatchesReference(string number, string region)
    {
        // Act
        var actual = NhsNumber.RegionOf(number);

        // Assert
        Assert.Equal(NhsNumberVectors.Region(region), actual);
    }

    [Theory]
    [MemberData(nameof(RangeBoundaryVectors))]
    public void Ranges_ReferenceBoundary_MatchesReference(string range, long start, long end)
    {
        // Act
        var actual = NhsNumberVectors.Range(range);

        // Assert
        Assert.Equal(start, actual.Start);
        Assert.Equal(end, actual.End);
    }

    // Valid numbers.

    [Theory]
    [InlineData("9999999999")]
    [InlineData("9000000009")]
    [InlineData("9000000017")]
    [InlineData("9000000025")]
    [InlineData("9000000033")]
    [InlineData("9693632109")]
    [InlineData("9912003888")]
    public void Check_TestRangeNumber_IsValidWithValue(string input)
    {
        // Act
        var check = NhsNumber.Check(input);

        // Assert
        Assert.True(check.IsValid);
        Assert.Equal(input, check.Value);
        Assert.Null(check.Problem);
    }

    [Theory]
    [InlineData("900 000 0009")]
    [InlineData("900-000-0009")]
    [InlineData("  9000000009\t")]
    public void Check_FormattedNumber_ValueIsTheTenDigits(string input)
    {
        // Act
        var check = NhsNumber.Check(input);

        // Assert
        Assert.True(check.IsValid);
        Assert.Equal("9000000009", check.Value);
    }

    [Theory]
    [InlineData("2902000014")] // 29/02/2000: a leap year.
    [InlineData("2902720017")] // 29/02/1972.
    [InlineData("0101000014")]
    [InlineData("3112990013")] // The last date in the CHI range.
    public void Check_ChiNumberWithRealDate_IsValid(string input)
    {
        // Act
        var check = NhsNumber.Check(input);

        // Assert
        Assert.True(check.IsValid);
        Assert.Equal(NhsNumberRegion.Scotland, NhsNumber.RegionOf(input));
    }

    [Theory]
    [InlineData("0001010018")] // Unallocated range: no date to check.
    [InlineData("3201010014")] // Northern Ireland: not date-based.
    public void Check_DateLikeNumberOutsideChiRange_IsValidOnCheckDigitAlone(string input)
    {
        // Act
        var check = NhsNumber.Check(input);

        // Assert
        Assert.True(check.IsValid);
        Assert.NotEqual(NhsNumberRegion.Scotland, NhsNumber.RegionOf(input));
    }

    // Invalid numbers, and what the clinician is told.

    [Theory]
    [InlineData("9912003890")]
    [InlineData("9000000015")]
    [InlineData("1234567890")]
    public void Check_WrongCheckDigit_SaysCheckDigitDoesNotMatch(string input)
    {
        // Act
        var check = NhsNumber.Check(input);

        // Assert
        Assert.False(check.IsValid);
        Assert.Null(check.Value);
        Assert.Equal(NhsNumber.CheckDigitProblem, check.Problem);
        Assert.Contains("check digit", check.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_NineDigitsWhoseCheckDigitWouldBeTen_EveryLastDigitFails()
    {
        // Arrange
        const string nineDigits = "000000006";

        // Act
        var checkDigit = NhsNumber.CalculateCheckDigit(nineDigits);
        var checks = Enumerable.Range(0, 10).Select(d => NhsNumber.Check($"{nineDigits}{d}")).ToList();

        // Assert
        Assert.Equal(10, checkDigit);
        Assert.All(checks, check => Assert.Contains("check digit", check.Problem, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("90000A0009")]
    [InlineData("abcdefghij")]
    [InlineData("900.000.0009")]
    [InlineData("900 000 000９")] // Full-width digit: not an ASCII digit.
    public void Check_CharactersOtherThanDigits_SaysOnlyDigitsAllowed(string input)
    {
        // Act
        var check = NhsNumber.Check(input);

        // Assert
        Assert.False(check.IsValid);
        Assert.Equal("The NHS number may contain only digits, spaces and hyphens.", check.Problem);
    }

    [Theory]
    [InlineData("900000000", 9)]
    [InlineData("90000000090", 11)]
    [InlineData("900 000 00", 8)]
    public void Check_WrongNumberOfDigits_SaysTenDigitsAndHowManyItHas(string input, int digits)
    {
        // Act
        var check = NhsNumber.Check(input);

        // Assert
        Assert.False(check.IsValid);
        Assert.Equal($"An NHS number has 10 digits; this has {digits}.", check.Problem);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(" - - ")]
    public void Check_Missing_SaysNumberIsRequired(string? input)
    {
        // Act
        var check = NhsNumber.Check(input);

        // Assert
        Assert.False(check.IsValid);
        Assert.Null(check.Value);
        Assert.Equal("An NHS number is required.", check.Problem);
    }

    [Theory]
    [InlineData("0113011113")] // Month 13.
    [InlineData("2902010028")] // 29/02/2001: not a leap year.
    [InlineData("2902690010")] // 29/02/1969.
    [InlineData("3102990010")] // 31 February.
    [InlineData("0100130011")] // Month 00, at the bottom of the CHI range.
    public void Check_ChiNumberWithImpossibleDate_SaysDateIsNotReal(string input)
    {
        // Act
        var check = NhsNumber.Check(input);

        // Assert
        Assert.False(check.IsValid);
        Assert.Equal(NhsNumberRegion.Scotland, NhsNumber.RegionOf(input));
        Assert.Equal(NhsNumber.ChiDateProblem, check.Problem);
        Assert.Contains("date", check.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("9912003890")]
    [InlineData("900 000 0015")]
    [InlineData("900000000")]
    [InlineData("90000000090")]
    [InlineData("90000A0009")]
    [InlineData("0113011113")]
    [InlineData("000000006-0")]
    public void Check_InvalidNumber_ProblemNeverContainsTheNumber(string input)
    {
        // Arrange
        var digitsOnly = new string([.. input.Where(char.IsAsciiDigit)]);

        // Act
        var check = NhsNumber.Check(input);

        // Assert
        Assert.False(check.IsValid);
        Assert.NotNull(check.Problem);
        Assert.DoesNotContain(input.Trim(), check.Problem, StringComparison.Ordinal);
        Assert.DoesNotContain(digitsOnly, check.Problem, StringComparison.Ordinal);
        Assert.DoesNotContain(digitsOnly[..5], check.Problem, StringComparison.Ordinal);
    }

    // Regions.

    [Fact]
    public void RegionOf_CheckDigitValidNumberBelowEveryRange_IsNullYetValid()
    {
        // Act
        var region = NhsNumber.RegionOf("0000000000");
        var isValid = NhsNumber.IsValid("0000000000");

        // Assert
        Assert.Null(region);
        Assert.True(isValid);
    }

    [Theory]
    [InlineData("900000000")]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("garbage")]
    public void RegionOf_NotTenDigits_IsNull(string? input)
    {
        // Act
        var region = NhsNumber.RegionOf(input);

        // Assert
        Assert.Null(region);
    }

    [Fact]
    public void Ranges_Together_CoverTenToTheLargestNumberOnceInOrder()
    {
        // Arrange
        var ranges = NhsNumber.Ranges;

        // Act
        var gapsOrOverlaps = ranges.Zip(ranges.Skip(1)).Where(pair => pair.Second.Start != pair.First.End + 1).ToList();

        // Assert
        Assert.Equal(10, ranges[0].Start);
        Assert.Equal(9_999_999_999, ranges[^1].End);
        Assert.All(ranges, range => Assert.True(range.Start <= range.End, $"{range} is empty."));
        Assert.Empty(gapsOrOverlaps);
    }

    private static TheoryData<T1, T2> ToTheoryData<T1, T2>(IEnumerable<JsonObject> cases, Func<JsonObject, (T1, T2)> select)
    {
        var data = new TheoryData<T1, T2>();
        foreach (var c in cases)
        {
            var (first, second) = select(c);
            data.Add(first, second);
        }

        return data;
    }
}
