using System.Globalization;
using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.PatientMatching;

/// <summary>The demographics every source's record is compared with, and why they were chosen.</summary>
/// <param name="Reference">The reference demographics. Patient-identifiable: never log them.</param>
/// <param name="Basis">
/// Where they came from, in words safe to show and log (organisation codes, never names or dates):
/// "supplied by the caller", or "agreed by 3 of 4 sources (A1, B2, C3)".
/// </param>
/// <param name="AgreeingOdsCodes">The ODS codes of the sources whose date of birth and family name the reference shares, in ordinal order.</param>
public sealed record ReferenceChoice(Demographics Reference, string Basis, IReadOnlyList<string> AgreeingOdsCodes);

/// <summary>
/// Chooses the reference demographics for an NHS number: what the caller supplied, or else what most sources agree on.
/// </summary>
/// <remarks>
/// <para>
/// Sources vote in groups of equal date of birth (as recorded) and normalised family name (<see cref="NameNormaliser"/>).
/// A source whose NHS number is verified (<see cref="Demographics.NhsNumberVerified"/>) counts 2, any other 1: a verified
/// number was traced against the national index, so its record is more likely to carry the demographics PDS holds.
/// A source with neither date of birth nor family name has nothing to vote with.
/// </para>
/// <para>
/// Ties in weight go to the group with more verified sources, then to the group holding the ordinally first ODS code,
/// so the same answers always give the same reference. Within the winning group the given name, gender and postcode come
/// from the first source that has them, verified sources first, then by ODS code.
/// </para>
/// <para>
/// Caller-supplied demographics count only if they hold a date of birth or a family name; whatever they leave out is
/// filled from the sources' choice.
/// </para>
/// </remarks>
public static class ReferenceDemographics
{
    internal const string SuppliedByCaller = "supplied by the caller";

    /// <summary>Chooses the reference demographics (see the remarks).</summary>
    /// <param name="sources">Each source's ODS code and the Patient it holds for the NHS number.</param>
    /// <param name="callerSupplied">Demographics the caller gave with the request, if any.</param>
    public static ReferenceChoice Choose(IReadOnlyList<(string OdsCode, Patient Patient)> sources, Demographics? callerSupplied)
    {
        ArgumentNullException.ThrowIfNull(sources);

        var fromSources = ChooseFromSources(sources);
        if (callerSupplied is null || (string.IsNullOrWhiteSpace(callerSupplied.BirthDate) && string.IsNullOrWhiteSpace(callerSupplied.Family)))
        {
            return fromSources;
        }

        var majority = fromSources.Reference;
        var callerPostcode = Demographics.NormalisePostcode(callerSupplied.Postcode);
        var fillFamily = string.IsNullOrWhiteSpace(callerSupplied.Family) && majority.Family is not null;
        var fillGiven = callerSupplied.Given.Count == 0 && majority.Given.Count > 0;
        var fillBirthDate = string.IsNullOrWhiteSpace(callerSupplied.BirthDate) && majority.BirthDate is not null;
        var fillGender = callerSupplied.Gender is null && majority.Gender is not null;
        var fillPostcode = callerPostcode is null && majority.Postcode is not null;
        var reference = callerSupplied with
        {
            Family = fillFamily ? majority.Family : callerSupplied.Family,
            Given = fillGiven ? majority.Given : callerSupplied.Given,
            BirthDate = fillBirthDate ? majority.BirthDate : callerSupplied.BirthDate,
            Gender = fillGender ? majority.Gender : callerSupplied.Gender,
            Postcode = fillPostcode ? majority.Postcode : callerPostcode,
        };

        return fillFamily || fillGiven || fillBirthDate || fillGender || fillPostcode
            ? new ReferenceChoice(reference, $"{SuppliedByCaller}, completed from the sources ({fromSources.Basis})", fromSources.AgreeingOdsCodes)
            : new ReferenceChoice(reference, SuppliedByCaller, []);
    }

    private static ReferenceChoice ChooseFromSources(IReadOnlyList<(string OdsCode, Patient Patient)> sources)
    {
        var voters = sources
            .Select(s => (s.OdsCode, Demographics: Demographics.From(s.Patient)))
            .Where(v => !string.IsNullOrWhiteSpace(v.Demographics.BirthDate) || !string.IsNullOrWhiteSpace(v.Demographics.Family))
            .ToList();
        if (voters.Count == 0)
        {
            return new ReferenceChoice(
                Demographics.Empty,
                sources.Count == 0 ? "no sources hold this patient" : "no source records a date of birth or family name",
                []);
        }

        var groups = voters
            .GroupBy(v => (BirthDate: v.Demographics.BirthDate ?? "", Family: NameNormaliser.Normalise(v.Demographics.Family)))
            .Select(g =>
            {
                var members = g
                    .OrderByDescending(v => v.Demographics.NhsNumberVerified)
                    .ThenBy(v => v.OdsCode, StringComparer.Ordinal)
                    .ToList();
                return new
                {
                    Members = members,
                    Weight = members.Sum(v => v.Demographics.NhsNumberVerified ? 2 : 1),
                    Verified = members.Count(v => v.Demographics.NhsNumberVerified),
                    FirstOdsCode = members.Select(v => v.OdsCode).Min(StringComparer.Ordinal)!,
                };
            })
            .OrderByDescending(g => g.Weight)
            .ThenByDescending(g => g.Verified)
            .ThenBy(g => g.FirstOdsCode, StringComparer.Ordinal)
            .ToList();

        var winner = groups[0];
        var tieBreak = "";
        if (groups.Count > 1 && groups[1].Weight == winner.Weight)
        {
            tieBreak = groups[1].Verified != winner.Verified
                ? "; chosen over an equally weighted group for having more verified NHS numbers"
                : "; chosen over an equally weighted group by organisation code order";
        }

        var members = winner.Members.Select(v => v.Demographics).ToList();
        var first = members[0];
        var reference = first with
        {
            Given = members.FirstOrDefault(d => d.Given.Count > 0)?.Given ?? [],
            Gender = members.FirstOrDefault(d => d.Gender is not null and not AdministrativeGender.Unknown)?.Gender ?? first.Gender,
            Postcode = members.FirstOrDefault(d => d.Postcode is not null)?.Postcode,
        };

        var agreeing = winner.Members.Select(v => v.OdsCode).Order(StringComparer.Ordinal).ToList();
        var basis = sources.Count == 1
            ? string.Create(CultureInfo.InvariantCulture, $"from the only source ({agreeing[0]})")
            : string.Create(CultureInfo.InvariantCulture, $"agreed by {agreeing.Count} of {sources.Count} sources ({string.Join(", ", agreeing)}){tieBreak}");
        return new ReferenceChoice(reference, basis, agreeing);
    }
}
