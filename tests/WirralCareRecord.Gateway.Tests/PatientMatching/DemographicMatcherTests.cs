using System.Text.RegularExpressions;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.PatientMatching;
using Outcome = WirralCareRecord.Gateway.PatientMatching.CorroborationOutcome;

namespace WirralCareRecord.Gateway.Tests.PatientMatching;

public class DemographicMatcherTests
{
    // Reference (family, given, date of birth, gender) | candidate (family, given, date of birth, gender) | outcome | a reason the clinician sees.
    [Theory]
    [InlineData("Smith", "Jane", "1980-03-14", "female", "Smith", "Jane", "1980-03-14", "female", Outcome.Match, "family name matches")]
    [InlineData("SMITH", "JANE", "1980-03-14", "female", "smith", "jane", "1980-03-14", "female", Outcome.Match, "given name matches")]
    [InlineData("Ellis", "Zoë", "1992-07-01", "female", "Ellis", "Zoe", "1992-07-01", "female", Outcome.Match, "given name matches once accents, punctuation, spacing and Mc/Mac are disregarded")]
    [InlineData("Hughes", "Siân", "1975-12-25", "female", "Hughes", "Sian", "1975-12-25", "female", Outcome.Match, "given name matches once accents")]
    [InlineData("Brontë", "Anne", "1950-01-17", "female", "Bronte", "Anne", "1950-01-17", "female", Outcome.Match, "family name matches once accents")]
    [InlineData("Smith-Jones", "Clare", "1988-05-30", "female", "Smith Jones", "Clare", "1988-05-30", "female", Outcome.Match, "family name matches once accents, punctuation, spacing")]
    [InlineData("Smith-Jones", "Clare", "1988-05-30", "female", "SmithJones", "Clare", "1988-05-30", "female", Outcome.Match, "family name matches once")]
    [InlineData("McDonald", "Ewan", "1961-08-09", "male", "MacDonald", "Ewan", "1961-08-09", "male", Outcome.Match, "Mc/Mac are disregarded")]
    [InlineData("MACKENZIE", "Iona", "2001-02-03", "female", "McKenzie", "Iona", "2001-02-03", "female", Outcome.Match, "family name matches once")]
    [InlineData("O'Brien", "Niamh", "1990-10-10", "female", "OBrien", "Niamh", "1990-10-10", "female", Outcome.Match, "family name matches once")]
    [InlineData("O\u2019Brien", "Niamh", "1990-10-10", "female", "O'Brien", "Niamh", "1990-10-10", "female", Outcome.Match, "family name matches once")]
    [InlineData("Thompson", "Peter", "1955-06-21", "male", "Thomson", "Peter", "1955-06-21", "male", Outcome.Match, "family name differs by one letter")]
    [InlineData("Thompson", "Peter", "1955-06-21", "male", "Thomson", "P", "1955-06-21", "male", Outcome.PossibleMatch, "family name differs by one letter")]
    [InlineData("Thompson", "Peter", "1955-06", "male", "Thomson", "Peter", "1955-06-21", "male", Outcome.PossibleMatch, "family name differs by one letter")]
    [InlineData("Williams", "Rhys", "1983-04-04", "male", "Wiliams", "Rhys", "1983-04-04", "male", Outcome.Match, "family name differs by one letter")]
    [InlineData("Smith", "Jane", "1980-03-14", "female", "Smtih", "Jane", "1980-03-14", "female", Outcome.Match, "family name differs by one letter")]
    [InlineData("Smith", "Jane", "1980-03-14", "female", "Smythe", "Jane", "1980-03-14", "female", Outcome.NoMatch, "family name differs")]
    [InlineData("Li", "Wei", "1979-11-11", "male", "Lu", "Wei", "1979-11-11", "male", Outcome.NoMatch, "family name differs")]
    [InlineData("Smith", "Jane", "1980-03-14", "female", "Jane", "Smith", "1980-03-14", "female", Outcome.PossibleMatch, "given and family names appear to be swapped")]
    [InlineData("Smith-Jones", "Clare", "1988-05-30", "female", "Jones", "Clare", "1988-05-30", "female", Outcome.Match, "family name matches one part of a double-barrelled family name")]
    [InlineData("Jones", "Clare", "1988-05-30", "female", "Smith-Jones", "Clare", "1988-05-30", "female", Outcome.Match, "family name matches one part of a double-barrelled family name")]
    [InlineData("Smith-Jones", "Clare", "1988-05", "female", "Smith", "Clare", "1988-05-30", "female", Outcome.PossibleMatch, "family name matches one part of a double-barrelled family name")]
    [InlineData("Smith-Jones", "Clare", "1988-05-30", "female", "Smith", "Bethan", "1988-05-30", "female", Outcome.PossibleMatch, "given name differs")]
    [InlineData("Smith-Jones", "Clare", "1988-05-30", "female", "Jones-Smith", "Clare", "1988-05-30", "female", Outcome.PossibleMatch, "family names share only part of a double-barrelled name")]
    [InlineData("Smith", "Jane", "1980-03-14", "female", "Patel", "Jane", "1980-03-14", "female", Outcome.NoMatch, "family name differs")]
    [InlineData("Smith", "J", "1980-03-14", "female", "Smith", "Jane", "1980-03-14", "female", Outcome.Match, "given name matches initial only")]
    [InlineData("Smith", "Jane", "1980-03-14", "female", "Smith", "J.", "1980-03-14", "female", Outcome.Match, "given name matches initial only")]
    [InlineData("Smith", "K", "1980-03-14", "female", "Smith", "Jane", "1980-03-14", "female", Outcome.PossibleMatch, "given name differs")]
    [InlineData("Jones", null, "2021-02-11", "female", "Jones", "Melanie", "2021-02-11", "female", Outcome.Match, "given name not recorded at one source (for example, a baby not yet named)")]
    [InlineData("Jones", "Oliver", "2019-09-02", "male", "Jones", "Harry", "2019-09-02", "male", Outcome.PossibleMatch, "given name differs")]
    [InlineData("Smith", "Jane", "2010-10-22", "female", "Smith", "Jayne", "2010-10-22", "female", Outcome.Match, "given name differs by one letter")]
    [InlineData("Brown", "Michael", "1966-01-31", "male", "Brown", "Micheal", "1966-01-31", "male", Outcome.Match, "given name differs by one letter")]
    [InlineData("Smith", "John Paul", "2010-10-22", "male", "Smith", "John", "2010-10-22", "male", Outcome.Match, "given name matches on the first name only")]
    [InlineData("Smith", "Jane", "1980-03-14", "female", "Smith", "Jane", "1981-03-14", "female", Outcome.NoMatch, "date of birth differs")]
    [InlineData("Smith", "Jane", "1980-03-04", "female", "Smith", "Jane", "1980-04-03", "female", Outcome.NoMatch, "date of birth differs (day and month appear to be swapped)")]
    [InlineData("Smith", "Jane", "1980-03", "female", "Smith", "Jane", "1980-03-14", "female", Outcome.PossibleMatch, "only the year and month are recorded at one source")]
    [InlineData("Smith", "Jane", "1980-03-14", "female", "Smith", "Jane", "1980-04", "female", Outcome.NoMatch, "date of birth differs")]
    [InlineData("Smith", "Jane", "1980-03-14", "female", "Smith", "Jane", "1980", "female", Outcome.PossibleMatch, "only the year is recorded at one source")]
    [InlineData("Smith", "Jane", "1980", "female", "Smith", "Jane", "1979-03-14", "female", Outcome.NoMatch, "date of birth differs")]
    [InlineData("Smith", "Jane", "1980-03-14", "female", "Smith", "Jane", null, "female", Outcome.PossibleMatch, "date of birth not recorded at one source")]
    [InlineData("Smith", "Jane", "1980-03-14", "female", "Smith", "Jane", "14/03/1980", "female", Outcome.PossibleMatch, "date of birth could not be read at one source")]
    [InlineData("Smith", "Jane", "1980-03-14", "female", "Smith", "Jane", "1980-03-14", "male", Outcome.PossibleMatch, "recorded gender differs")]
    [InlineData("Smith", "Jane", "1980-03-14", "unknown", "Smith", "Jane", "1980-03-14", "female", Outcome.Match, "gender not known at one source")]
    [InlineData("Smith", "Jane", "1980-03-14", null, "Smith", "Jane", "1980-03-14", "female", Outcome.Match, "gender not known at one source")]
    [InlineData("Smith", "Jane", "1980-03-14", "female", null, "Jane", "1980-03-14", "female", Outcome.PossibleMatch, "family name not recorded at one source")]
    [InlineData("Thompson", "Peter", "1955-06-21", "male", "Thomson", "Peter", "1955-06-21", "female", Outcome.PossibleMatch, "recorded gender differs")]
    [InlineData("Smith", "Jane", "2010-10-22", "female", "Smyth", "Jayne", "2010-10-22", "female", Outcome.PossibleMatch, "family name differs by one letter")]
    public void Compare_TableCase_GivesExpectedOutcomeAndReason(
        string? referenceFamily, string? referenceGiven, string? referenceBirthDate, string? referenceGender,
        string? candidateFamily, string? candidateGiven, string? candidateBirthDate, string? candidateGender,
        CorroborationOutcome expected, string expectedReason)
    {
        // Arrange
        var reference = Person(referenceFamily, referenceGiven, referenceBirthDate, referenceGender);
        var candidate = Person(candidateFamily, candidateGiven, candidateBirthDate, candidateGender);

        // Act
        var match = DemographicMatcher.Compare(reference, candidate);

        // Assert
        Assert.Equal(expected, match.Outcome);
        Assert.Contains(match.Reasons, reason => reason.Contains(expectedReason, StringComparison.Ordinal));
        AssertReasonsDisclose(match, candidateFamily, candidateGiven, candidateBirthDate, referenceFamily, referenceGiven, referenceBirthDate);
    }

    [Theory]
    [InlineData("CH41 6EY", "ch416ey", "postcode matches")]
    [InlineData("CH41 6EY", "L1 8JQ", "postcode differs (the patient may have moved)")]
    public void Compare_PostcodeOnly_NeverLowersAMatch(string referencePostcode, string candidatePostcode, string expectedReason)
    {
        // Arrange
        var reference = Person("Smith", "Jane", "1980-03-14", "female") with { Postcode = referencePostcode };
        var candidate = Person("Smith", "Jane", "1980-03-14", "female") with { Postcode = candidatePostcode };

        // Act
        var match = DemographicMatcher.Compare(reference, candidate);

        // Assert
        Assert.Equal(Outcome.Match, match.Outcome);
        Assert.Contains(expectedReason, match.Reasons);
        Assert.DoesNotContain(match.Reasons, r => r.Contains("CH41", StringComparison.OrdinalIgnoreCase) || r.Contains("L1", StringComparison.Ordinal));
    }

    [Fact]
    public void Compare_FullAgreement_GivesOneReasonPerThingCompared()
    {
        // Arrange
        var person = Person("Smith", "Jane", "1980-03-14", "female") with { Postcode = "CH416EY" };

        // Act
        var match = DemographicMatcher.Compare(person, person);

        // Assert
        Assert.Equal(Outcome.Match, match.Outcome);
        Assert.Equal(["date of birth matches", "family name matches", "given name matches", "gender matches", "postcode matches"], match.Reasons);
        Assert.Equal("date of birth matches; family name matches; given name matches; gender matches; postcode matches", match.Summary);
    }

    [Fact]
    public void Compare_SwappedNames_DoesNotAlsoReportGivenNameDiffers()
    {
        // Act
        var match = DemographicMatcher.Compare(Person("Owen", "Morgan", "1970-01-01", "male"), Person("Morgan", "Owen", "1970-01-01", "male"));

        // Assert
        Assert.Equal(Outcome.PossibleMatch, match.Outcome);
        Assert.Contains("given and family names appear to be swapped", match.Reasons);
        Assert.DoesNotContain("given name differs", match.Reasons);
    }

    [Fact]
    public void Compare_EveryDisagreement_ReasonsNameNoValue()
    {
        // Arrange: a candidate that disagrees on everything, with values that would stand out in any message.
        var reference = Person("Abernethy", "Zebedee", "1944-02-29", "male") with { Postcode = "CH41 6EY" };
        var candidate = Person("Quixley", "Ottoline", "2003-11-07", "female") with { Postcode = "PR8 4QT" };

        // Act
        var match = DemographicMatcher.Compare(reference, candidate);

        // Assert
        Assert.Equal(Outcome.NoMatch, match.Outcome);
        Assert.Equal(["date of birth differs", "family name differs", "given name differs", "recorded gender differs", "postcode differs (the patient may have moved)"], match.Reasons);
        AssertReasonsDisclose(match, "Quixley", "Ottoline", "2003-11-07", "Abernethy", "Zebedee", "1944-02-29");
        Assert.DoesNotContain(match.Reasons, r => r.Contains("PR8", StringComparison.OrdinalIgnoreCase) || r.Contains("2003", StringComparison.Ordinal));
    }

    [Fact]
    public void Compare_NothingRecordedAtCandidate_IsPossibleMatchNotNoMatch()
    {
        // Act: a source that holds the NHS number but no demographics (as PDS's minimal record) contradicts nothing.
        var match = DemographicMatcher.Compare(Person("Smith", "Jane", "1980-03-14", "female"), Demographics.Empty);

        // Assert
        Assert.Equal(Outcome.PossibleMatch, match.Outcome);
        Assert.Equal(["date of birth not recorded at one source", "family name not recorded at one source", "given name not recorded at one source (for example, a baby not yet named)", "gender not known at one source"], match.Reasons);
    }

    internal static Demographics Person(string? family, string? given, string? birthDate, string? gender) =>
        new(family, given is null ? [] : [given], birthDate, gender is null ? null : Enum.Parse<AdministrativeGender>(gender, ignoreCase: true), null, false);

    /// <summary>Fails if any reason shows one of the values, as a whole word, in any case.</summary>
    internal static void AssertReasonsDisclose(DemographicMatch match, params string?[] values)
    {
        foreach (var value in values.Where(v => !string.IsNullOrWhiteSpace(v)))
        {
            var asWord = new Regex(@"(?<![\p{L}\p{N}])" + Regex.Escape(value!) + @"(?![\p{L}\p{N}])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
            Assert.DoesNotContain(match.Reasons, asWord.IsMatch);
            foreach (var part in value!.Split('-', ' ', '/'))
            {
                // Every date part and name part too: a year alone is identifying enough to keep out.
                if (part.Length >= 3)
                {
                    Assert.DoesNotContain(match.Reasons, r => r.Contains(part, StringComparison.OrdinalIgnoreCase));
                }
            }
        }
    }
}
