using System.Globalization;
using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.PatientMatching;

/// <summary>How well a record's demographics corroborate the reference demographics for the same NHS number.</summary>
public enum CorroborationOutcome
{
    /// <summary>The demographics agree: the record is about the person asked for.</summary>
    Match,

    /// <summary>Nothing contradicts the NHS number, but the demographics do not fully agree: a clinician should check.</summary>
    PossibleMatch,

    /// <summary>The demographics contradict the NHS number: the record is not about the same person.</summary>
    NoMatch,
}

/// <summary>The result of comparing one record's demographics with the reference.</summary>
/// <param name="Outcome">The decision.</param>
/// <param name="Reasons">
/// Why, in plain words for a clinician, one per thing compared (date of birth, family name, given name, gender, postcode).
/// Reasons never contain a name, date or postcode, so they are safe to show to anyone and to log.
/// </param>
public sealed record DemographicMatch(CorroborationOutcome Outcome, IReadOnlyList<string> Reasons)
{
    /// <summary>The reasons as one sentence.</summary>
    public string Summary => string.Join("; ", Reasons);
}

/// <summary>
/// Compares a record's demographics with the reference demographics for an NHS number. The NHS number is the key: this
/// only corroborates it, so it never finds a match on names alone and is strict on date of birth.
/// </summary>
/// <remarks>
/// <para>Start from <see cref="CorroborationOutcome.Match"/>; each rule can only lower the outcome.</para>
/// <list type="table">
/// <listheader><term>Condition</term><description>Outcome at best, and why</description></listheader>
/// <item><term>Dates of birth both full and equal</term><description>Match.</description></item>
/// <item><term>A date of birth is year-month or year only, consistent with the other</term><description>PossibleMatch: the day (and month) cannot be checked.</description></item>
/// <item><term>Dates of birth disagree at any recorded part</term><description>NoMatch, even with identical names: same name and NHS number but another date of birth is a different person or a wrong record.</description></item>
/// <item><term>A date of birth missing or unreadable</term><description>PossibleMatch: nothing to corroborate with.</description></item>
/// <item><term>Family names equal once normalised (<see cref="NameNormaliser"/>)</term><description>Match.</description></item>
/// <item><term>Family names one typo apart</term><description>Match when the given name and full date of birth agree; otherwise PossibleMatch.</description></item>
/// <item><term>One family name is one part of the other's double-barrelled name</term><description>
/// As a typo: Match when the given name and full date of birth agree, otherwise PossibleMatch. Systems with one surname field,
/// and patients themselves, often drop a barrel; at the same NHS number with date of birth and given name agreeing, the
/// record is the same person, and the reason says so.</description></item>
/// <item><term>Both double-barrelled, sharing a part</term><description>PossibleMatch.</description></item>
/// <item><term>Given and family names swapped</term><description>PossibleMatch.</description></item>
/// <item><term>Family name missing at one side</term><description>PossibleMatch.</description></item>
/// <item><term>Family names otherwise different</term><description>NoMatch.</description></item>
/// <item><term>First given names equal, or equal in their first word (<c>John Paul</c> and <c>John</c>)</term><description>Match.</description></item>
/// <item><term>A given name is an initial of the other</term><description>Match, noted; not full agreement for the family-name rules.</description></item>
/// <item><term>Given names one typo apart</term><description>Match, noted; not full agreement.</description></item>
/// <item><term>Given name missing at one side (a baby not yet named)</term><description>Match, noted: not a disagreement; not full agreement.</description></item>
/// <item><term>Given names different</term><description>PossibleMatch: twins share a family name and date of birth, so a different given name at the same NHS number needs checking.</description></item>
/// <item><term>Genders both known (not <c>unknown</c>) and different</term><description>PossibleMatch.</description></item>
/// <item><term>Postcodes different</term><description>No change (people move), noted.</description></item>
/// </list>
/// </remarks>
public static class DemographicMatcher
{
    internal const string BirthDateMatches = "date of birth matches";
    internal const string BirthDateDiffers = "date of birth differs";
    internal const string BirthDateDayMonthSwapped = "date of birth differs (day and month appear to be swapped)";
    internal const string BirthDateYearMonthOnly = "date of birth agrees, but only the year and month are recorded at one source";
    internal const string BirthDateYearOnly = "date of birth agrees, but only the year is recorded at one source";
    internal const string BirthDateMissing = "date of birth not recorded at one source";
    internal const string BirthDateUnreadable = "date of birth could not be read at one source";

    internal const string FamilyMatches = "family name matches";
    internal const string FamilyMatchesNormalised = "family name matches once accents, punctuation, spacing and Mc/Mac are disregarded";
    internal const string FamilyOneTypo = "family name differs by one letter";
    internal const string FamilyOnePart = "family name matches one part of a double-barrelled family name";
    internal const string FamilySharesPart = "family names share only part of a double-barrelled name";
    internal const string FamilySwapped = "given and family names appear to be swapped";
    internal const string FamilyMissing = "family name not recorded at one source";
    internal const string FamilyDiffers = "family name differs";

    internal const string GivenMatches = "given name matches";
    internal const string GivenMatchesNormalised = "given name matches once accents, punctuation, spacing and Mc/Mac are disregarded";
    internal const string GivenFirstWordMatches = "given name matches on the first name only";
    internal const string GivenInitialOnly = "given name matches initial only";
    internal const string GivenOneTypo = "given name differs by one letter";
    internal const string GivenMissing = "given name not recorded at one source (for example, a baby not yet named)";
    internal const string GivenDiffers = "given name differs";

    internal const string GenderMatches = "gender matches";
    internal const string GenderDiffers = "recorded gender differs";
    internal const string GenderNotKnown = "gender not known at one source";

    internal const string PostcodeMatches = "postcode matches";
    internal const string PostcodeDiffers = "postcode differs (the patient may have moved)";

    /// <summary>Compares <paramref name="candidate"/>'s demographics with <paramref name="reference"/>'s (see the rules above).</summary>
    public static DemographicMatch Compare(Demographics reference, Demographics candidate)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(candidate);

        var outcome = CorroborationOutcome.Match;
        var reasons = new List<string>(5);

        void Cap(CorroborationOutcome atBest)
        {
            if (atBest > outcome)
            {
                outcome = atBest;
            }
        }

        var birthDate = CompareBirthDates(reference.BirthDate, candidate.BirthDate);
        reasons.Add(birthDate.Reason);
        Cap(birthDate.AtBest);

        var family = CompareFamily(reference, candidate);
        Given? given = family == Family.Swapped ? null : CompareGiven(reference.FirstGiven, candidate.FirstGiven);
        var givenAgreesFully = given is Given.Same or Given.SameNormalised or Given.FirstWordSame;
        var birthDateAgreesFully = birthDate.AtBest == CorroborationOutcome.Match;

        reasons.Add(FamilyReason(family));
        Cap(family switch
        {
            Family.Same or Family.SameNormalised => CorroborationOutcome.Match,
            Family.OneTypo or Family.OnePartOfDoubleBarrelled =>
                givenAgreesFully && birthDateAgreesFully ? CorroborationOutcome.Match : CorroborationOutcome.PossibleMatch,
            Family.SharesPart or Family.Swapped or Family.Missing => CorroborationOutcome.PossibleMatch,
            _ => CorroborationOutcome.NoMatch,
        });

        if (given is { } g)
        {
            reasons.Add(GivenReason(g));
            if (g == Given.Different)
            {
                Cap(CorroborationOutcome.PossibleMatch);
            }
        }

        if (IsKnown(reference.Gender) && IsKnown(candidate.Gender))
        {
            var same = reference.Gender == candidate.Gender;
            reasons.Add(same ? GenderMatches : GenderDiffers);
            if (!same)
            {
                Cap(CorroborationOutcome.PossibleMatch);
            }
        }
        else
        {
            reasons.Add(GenderNotKnown);
        }

        var referencePostcode = Demographics.NormalisePostcode(reference.Postcode);
        var candidatePostcode = Demographics.NormalisePostcode(candidate.Postcode);
        if (referencePostcode is not null && candidatePostcode is not null)
        {
            // A different postcode alone never lowers the outcome: people move, and sources update at different times.
            reasons.Add(string.Equals(referencePostcode, candidatePostcode, StringComparison.Ordinal) ? PostcodeMatches : PostcodeDiffers);
        }

        return new DemographicMatch(outcome, reasons);
    }

    private static bool IsKnown(AdministrativeGender? gender) => gender is { } g && g != AdministrativeGender.Unknown;

    private static (CorroborationOutcome AtBest, string Reason) CompareBirthDates(string? reference, string? candidate)
    {
        if (string.IsNullOrWhiteSpace(reference) || string.IsNullOrWhiteSpace(candidate))
        {
            return (CorroborationOutcome.PossibleMatch, BirthDateMissing);
        }

        if (PartialDate.Parse(reference) is not { } r || PartialDate.Parse(candidate) is not { } c)
        {
            return (CorroborationOutcome.PossibleMatch, BirthDateUnreadable);
        }

        if (r.Year != c.Year || (r.Month is { } rm && c.Month is { } cm && rm != cm) || (r.Day is { } rd && c.Day is { } cd && rd != cd))
        {
            var swapped = r.Year == c.Year && r.Day is not null && c.Day is not null && r.Month == c.Day && r.Day == c.Month;
            return (CorroborationOutcome.NoMatch, swapped ? BirthDateDayMonthSwapped : BirthDateDiffers);
        }

        if (r.Day is not null && c.Day is not null)
        {
            return (CorroborationOutcome.Match, BirthDateMatches);
        }

        return (CorroborationOutcome.PossibleMatch, r.Month is null || c.Month is null ? BirthDateYearOnly : BirthDateYearMonthOnly);
    }

    private enum Family
    {
        Same,
        SameNormalised,
        OneTypo,
        OnePartOfDoubleBarrelled,
        SharesPart,
        Swapped,
        Missing,
        Different,
    }

    private static Family CompareFamily(Demographics reference, Demographics candidate)
    {
        var comparison = NameNormaliser.Compare(reference.Family, candidate.Family);
        if (comparison == NameComparison.Missing)
        {
            return Family.Missing;
        }

        if (comparison == NameComparison.Same)
        {
            return string.Equals(reference.Family!.Trim(), candidate.Family!.Trim(), StringComparison.OrdinalIgnoreCase)
                ? Family.Same
                : Family.SameNormalised;
        }

        // Checked before typos: an exact swap says more than a one-letter likeness.
        if (NameNormaliser.Compare(reference.Family, candidate.FirstGiven) == NameComparison.Same
            && NameNormaliser.Compare(reference.FirstGiven, candidate.Family) == NameComparison.Same)
        {
            return Family.Swapped;
        }

        if (comparison == NameComparison.OneTypo)
        {
            return Family.OneTypo;
        }

        var referenceParts = NameNormaliser.Parts(reference.Family);
        var candidateParts = NameNormaliser.Parts(candidate.Family);
        if ((referenceParts.Count > 1 && candidateParts.Count == 1 && referenceParts.Contains(candidateParts[0]))
            || (candidateParts.Count > 1 && referenceParts.Count == 1 && candidateParts.Contains(referenceParts[0])))
        {
            return Family.OnePartOfDoubleBarrelled;
        }

        return referenceParts.Count > 1 && candidateParts.Count > 1 && referenceParts.Intersect(candidateParts, StringComparer.Ordinal).Any()
            ? Family.SharesPart
            : Family.Different;
    }

    private static string FamilyReason(Family family) => family switch
    {
        Family.Same => FamilyMatches,
        Family.SameNormalised => FamilyMatchesNormalised,
        Family.OneTypo => FamilyOneTypo,
        Family.OnePartOfDoubleBarrelled => FamilyOnePart,
        Family.SharesPart => FamilySharesPart,
        Family.Swapped => FamilySwapped,
        Family.Missing => FamilyMissing,
        _ => FamilyDiffers,
    };

    private enum Given
    {
        Same,
        SameNormalised,
        FirstWordSame,
        InitialOnly,
        OneTypo,
        Missing,
        Different,
    }

    private static Given CompareGiven(string? reference, string? candidate)
    {
        var whole = NameNormaliser.Compare(reference, candidate);
        switch (whole)
        {
            case NameComparison.Missing:
                return Given.Missing;
            case NameComparison.Same:
                return string.Equals(reference!.Trim(), candidate!.Trim(), StringComparison.OrdinalIgnoreCase) ? Given.Same : Given.SameNormalised;
        }

        // A given element may hold several names ("John Paul"); the first of them is the one people go by.
        var referenceFirst = NameNormaliser.Parts(reference)[0];
        var candidateFirst = NameNormaliser.Parts(candidate)[0];
        if (string.Equals(referenceFirst, candidateFirst, StringComparison.Ordinal))
        {
            return referenceFirst.Length > 1 ? Given.FirstWordSame : Given.InitialOnly;
        }

        if ((referenceFirst.Length == 1 || candidateFirst.Length == 1) && referenceFirst[0] == candidateFirst[0])
        {
            return Given.InitialOnly;
        }

        return whole == NameComparison.OneTypo || NameNormaliser.Compare(referenceFirst, candidateFirst) == NameComparison.OneTypo
            ? Given.OneTypo
            : Given.Different;
    }

    private static string GivenReason(Given given) => given switch
    {
        Given.Same => GivenMatches,
        Given.SameNormalised => GivenMatchesNormalised,
        Given.FirstWordSame => GivenFirstWordMatches,
        Given.InitialOnly => GivenInitialOnly,
        Given.OneTypo => GivenOneTypo,
        Given.Missing => GivenMissing,
        _ => GivenDiffers,
    };

    /// <summary>A FHIR date at year, year-month or full-date precision.</summary>
    private readonly record struct PartialDate(int Year, int? Month, int? Day)
    {
        public static PartialDate? Parse(string value)
        {
            var parts = value.Trim().Split('-');
            if (parts.Length is < 1 or > 3 || parts[0].Length != 4 || parts.Skip(1).Any(p => p.Length != 2) || !parts.All(p => p.All(char.IsAsciiDigit)))
            {
                return null;
            }

            var year = int.Parse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture);
            int? month = parts.Length > 1 ? int.Parse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture) : null;
            int? day = parts.Length > 2 ? int.Parse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture) : null;
            if (year < 1 || month is < 1 or > 12 || (day is { } d && (d < 1 || d > DateTime.DaysInMonth(year, month!.Value))))
            {
                return null;
            }

            return new PartialDate(year, month, day);
        }
    }
}
