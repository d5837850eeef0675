using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Tests.PatientMatching;

public class NameNormaliserTests
{
    [Theory]
    [InlineData("Smith", "SMITH")]
    [InlineData("  smith ", "SMITH")]
    [InlineData("Zoë", "ZOE")]
    [InlineData("Siân", "SIAN")]
    [InlineData("Zoe\u0308", "ZOE")] // already decomposed: e followed by a combining diaeresis
    [InlineData("Smith-Jones", "SMITHJONES")]
    [InlineData("Smith Jones", "SMITHJONES")]
    [InlineData("O'Brien", "OBRIEN")]
    [InlineData("O\u2019Brien", "OBRIEN")]
    [InlineData("MacDonald", "MCDONALD")]
    [InlineData("McDonald", "MCDONALD")]
    [InlineData("Mac", "MAC")]
    [InlineData("Strauß", "STRAUSS")]
    [InlineData("Llŷr", "LLYR")]
    [InlineData("Gwên", "GWEN")]
    [InlineData("Nguyễn", "NGUYEN")]
    [InlineData("Żółkiewski", "ZOLKIEWSKI")]
    [InlineData("Ægir", "AEGIR")]
    [InlineData("Søren", "SOREN")]
    [InlineData("Łukasz", "LUKASZ")]
    [InlineData("St. John", "STJOHN")]
    [InlineData(null, "")]
    [InlineData("  ", "")]
    [InlineData("-'", "")]
    public void Normalise_Name_GivesComparisonForm(string? name, string expected)
    {
        // Act
        var normalised = NameNormaliser.Normalise(name);

        // Assert
        Assert.Equal(expected, normalised);
    }

    [Theory]
    [InlineData("", "", 0)]
    [InlineData("SMITH", "SMITH", 0)]
    [InlineData("", "ABC", 3)]
    [InlineData("SMITH", "SMYTH", 1)]
    [InlineData("THOMPSON", "THOMSON", 1)]
    [InlineData("SMITH", "SMTIH", 1)]
    [InlineData("AB", "BA", 1)]
    [InlineData("SMITH", "SMYTHE", 2)]
    [InlineData("KITTEN", "SITTING", 3)]
    [InlineData("CA", "ABC", 3)] // optimal string alignment: a swapped pair is not edited again (true Damerau-Levenshtein gives 2)
    public void Distance_Pair_CountsEditsWithSwapsAsOne(string a, string b, int expected)
    {
        // Act
        var distance = NameNormaliser.Distance(a, b);
        var reversed = NameNormaliser.Distance(b, a);

        // Assert
        Assert.Equal(expected, distance);
        Assert.Equal(expected, reversed);
    }

    [Theory]
    [InlineData("Smith", "smith", NameComparison.Same)]
    [InlineData("Smith", "Smyth", NameComparison.OneTypo)]
    [InlineData("Jane", "Jayne", NameComparison.OneTypo)]
    [InlineData("Amy", "Ami", NameComparison.Different)] // three letters: one letter is a third of the name
    [InlineData("Smith", "Smythe", NameComparison.Different)]
    [InlineData("Smith", null, NameComparison.Missing)]
    [InlineData("", "Smith", NameComparison.Missing)]
    public void Compare_TwoNames_ToleratesOneTypoInLongerNames(string? a, string? b, NameComparison expected)
    {
        // Act
        var comparison = NameNormaliser.Compare(a, b);

        // Assert
        Assert.Equal(expected, comparison);
    }

    [Theory]
    [InlineData("Smith-Jones", new[] { "SMITH", "JONES" })]
    [InlineData("Mac Donald", new[] { "MAC", "DONALD" })]
    [InlineData("Smith", new[] { "SMITH" })]
    [InlineData(null, new string[0])]
    public void Parts_DoubleBarrelledName_SplitsOnHyphensAndSpaces(string? name, string[] expected)
    {
        // Act
        var parts = NameNormaliser.Parts(name);

        // Assert
        Assert.Equal(expected, parts);
    }
}
