using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace WirralCareRecord.Gateway.PatientMatching;

/// <summary>
/// Puts person names into one form for comparison, so that the same name typed on different systems compares equal:
/// case is folded, accents are dropped (<c>Zoë</c> = <c>Zoe</c>, <c>Siân</c> = <c>Sian</c>), hyphens, apostrophes,
/// spaces and full stops are removed (<c>Smith-Jones</c> = <c>Smith Jones</c> = <c>SmithJones</c>, <c>O'Brien</c> =
/// <c>OBrien</c>), and a leading <c>Mac</c> is read as <c>Mc</c> (<c>MacDonald</c> = <c>McDonald</c>).
/// </summary>
/// <remarks>
/// The normalised form is for comparing only, never for display. Normalisation is applied to both sides, so reading
/// every leading <c>Mac</c> as <c>Mc</c> can only make two names equal that differ in that prefix (<c>Machin</c> and
/// <c>Mchin</c>): a cost accepted because the comparison is always made at an NHS number both records already share.
/// Accents are folded with a table rather than Unicode normalisation alone: under the <c>InvariantGlobalization</c> the gateway
/// sets, <see cref="string.Normalize(NormalizationForm)"/> leaves non-ASCII text as it is.
/// </remarks>
public static class NameNormaliser
{
    /// <summary>The shortest name (after normalising) in which one typo is tolerated; in shorter names one letter is too much of the name.</summary>
    public const int MinimumLengthForTypo = 4;

    /// <summary>
    /// Upper-case letters with accents and the base letter each stands for, by Unicode block, generated from the Unicode
    /// canonical decompositions (NFD). A table, not <see cref="string.Normalize(NormalizationForm)"/>, because the gateway
    /// sets <c>InvariantGlobalization</c>, under which normalisation leaves non-ASCII text unchanged (no ICU data).
    /// Lower-case letters are upper-cased first (<see cref="char.ToUpperInvariant(char)"/> needs no ICU).
    /// </summary>
    private static readonly (string Accented, string Plain)[] Blocks =
    [
        // Latin-1 Supplement
        ("ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝ", "AAAAAACEEEEIIIINOOOOOUUUUY"),

        // Latin Extended-A
        ("ĀĂĄĆĈĊČĎĒĔĖĘĚĜĞĠĢĤĨĪĬĮİĴĶĹĻĽŃŅŇŌŎŐŔŖŘŚŜŞŠŢŤŨŪŬŮŰŲŴŶŸŹŻŽ", "AAACCCCDEEEEEGGGGHIIIIIJKLLLNNNOOORRRSSSSTTUUUUUUWYYZZZ"),

        // Latin Extended-B
        ("ƠƯǍǏǑǓǕǗǙǛǞǠǦǨǪǬǴǸǺȀȂȄȆȈȊȌȎȐȒȔȖȘȚȞȦȨȪȬȮȰȲ", "OUAIOUUUUUAAGKOOGNAAAEEIIOORRUUSTHAEOOOOY"),

        // Latin Extended Additional: Welsh (Ẁ Ẃ Ẅ Ỳ) and Vietnamese among others
        ("ḀḂḄḆḈḊḌḎḐḒḔḖḘḚḜḞḠḢḤḦḨḪḬḮḰḲḴḶḸḺḼḾṀṂṄṆṈṊṌṎṐṒṔṖṘṚṜṞṠṢṤṦṨṪṬṮṰṲṴṶṸṺṼṾẀẂẄẆẈẊẌẎẐẒẔẠẢẤẦẨẪẬẮẰẲẴẶẸẺẼẾỀỂỄỆỈỊỌỎỐỒỔỖỘỚỜỞỠỢỤỦỨỪỬỮỰỲỴỶỸ",
            "ABBBCDDDDDEEEEEFGHHHHHIIKKKLLLLMMMNNNNOOOOPPRRRRSSSSSTTTTUUUUUVVWWWWWXXYZZZAAAAAAAAAAAAEEEEEEEEIIOOOOOOOOOOOOUUUUUUUYYYY"),
    ];

    /// <summary>Letters with no canonical decomposition into a base letter, and letters that stand for two.</summary>
    private static readonly (char Letter, string Plain)[] Ligatures =
    [
        ('ß', "SS"), ('ẞ', "SS"), ('Æ', "AE"), ('Ø', "O"), ('Œ', "OE"), ('Ł', "L"), ('Đ', "D"), ('Ð', "D"),
        ('Þ', "TH"), ('Ħ', "H"), ('Ŧ', "T"), ('Ŀ', "L"), ('Ĳ', "IJ"), ('ı', "I"),
    ];

    private static readonly FrozenDictionary<char, string> Folds = BuildFolds();

    /// <summary>
    /// The comparison form of a name: upper case, letters and digits only, no accents, <c>MAC</c> prefix read as <c>MC</c>.
    /// Returns <c>""</c> for a missing or blank name.
    /// </summary>
    public static string Normalise(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "";
        }

        // Decomposes what it can where ICU is available; the Folds table does the work under invariant globalization.
        var decomposed = name.Normalize(NormalizationForm.FormD);
        var builder = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }

            var upper = char.ToUpperInvariant(c);
            if (Folds.TryGetValue(c, out var folded) || Folds.TryGetValue(upper, out folded))
            {
                builder.Append(folded);
            }
            else if (char.IsLetterOrDigit(upper))
            {
                // Hyphens, apostrophes (straight or curly), spaces and full stops all fall out here.
                builder.Append(upper);
            }
        }

        var normalised = builder.ToString();
        return normalised.StartsWith("MAC", StringComparison.Ordinal) && normalised.Length > 3
            ? "MC" + normalised[3..]
            : normalised;
    }

    private static FrozenDictionary<char, string> BuildFolds()
    {
        var folds = new Dictionary<char, string>();
        foreach (var (accented, plain) in Blocks)
        {
            for (var i = 0; i < accented.Length; i++)
            {
                folds[accented[i]] = new string(plain[i], 1);
            }
        }

        foreach (var (letter, plain) in Ligatures)
        {
            folds[letter] = plain;
        }

        return folds.ToFrozenDictionary();
    }

    /// <summary>
    /// The normalised parts of a name written with hyphens or spaces (<c>Smith-Jones</c> gives <c>SMITH</c> and <c>JONES</c>).
    /// A name of one part gives one part; a missing name gives none.
    /// </summary>
    public static IReadOnlyList<string> Parts(string? name) =>
        string.IsNullOrWhiteSpace(name)
            ? []
            : [.. name.Split([' ', '-', '\u2010', '\u2011', '\u2013'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(Normalise)
                .Where(part => part.Length > 0)];

    /// <summary>
    /// The optimal string alignment distance (restricted Damerau-Levenshtein): how many single-letter insertions, deletions,
    /// substitutions or swaps of two adjacent letters turn one string into the other. Compares the strings as given; normalise first.
    /// </summary>
    public static int Distance(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);

        // Three rows are enough: the transposition step looks back two rows.
        var previousPrevious = new int[b.Length + 1];
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                var best = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    best = Math.Min(best, previousPrevious[j - 2] + 1);
                }

                current[j] = best;
            }

            (previousPrevious, previous, current) = (previous, current, previousPrevious);
        }

        return previous[b.Length];
    }

    /// <summary>
    /// How two names compare once normalised: the same, one typo apart (one letter added, dropped, changed, or two adjacent
    /// letters swapped, in names of at least <see cref="MinimumLengthForTypo"/> letters), different, or not comparable
    /// because one is missing.
    /// </summary>
    public static NameComparison Compare(string? a, string? b)
    {
        var left = Normalise(a);
        var right = Normalise(b);
        if (left.Length == 0 || right.Length == 0)
        {
            return NameComparison.Missing;
        }

        if (string.Equals(left, right, StringComparison.Ordinal))
        {
            return NameComparison.Same;
        }

        return Math.Min(left.Length, right.Length) >= MinimumLengthForTypo && Distance(left, right) <= 1
            ? NameComparison.OneTypo
            : NameComparison.Different;
    }
}

/// <summary>The result of <see cref="NameNormaliser.Compare"/>.</summary>
public enum NameComparison
{
    /// <summary>Equal once normalised.</summary>
    Same,

    /// <summary>One typo apart once normalised.</summary>
    OneTypo,

    /// <summary>Neither equal nor one typo apart.</summary>
    Different,

    /// <summary>At least one side has no name to compare.</summary>
    Missing,
}
