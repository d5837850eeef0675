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
/// <param name="Unresolved">
/// True when equally weighted sources disagree and nothing could settle which is this patient's: there is no reference
/// (<paramref name="Reference"/> is empty), so no source may be merged and the caller must say who they mean.
/// </param>
public sealed record ReferenceChoice(Demographics Reference, string Basis, IReadOnlyList<string> AgreeingOdsCodes, bool Unresolved = false);

/// <summary>What may settle a tie between equally weighted groups of sources, in the order it is tried.</summary>
/// <param name="Service">
/// The demographics service's (PDS-compatible) Patient for the NHS number, when one is configured and answered with it.
/// </param>
/// <param name="RegisteredPractices">
/// The ODS codes of the practice(s) every source's Patient names as the GP (<c>generalPractitioner</c>); empty unless
/// all of them name the same.
/// </param>
public sealed record TieBreakers(Demographics? Service, IReadOnlySet<string> RegisteredPractices)
{
    /// <summary>Nothing to settle a tie with: a tie leaves the choice unresolved.</summary>
    public static TieBreakers None { get; } = new(null, new HashSet<string>());
}

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
/// Ties in weight go to the group with more verified sources. A tie that remains is never broken by organisation code
/// or by the order the sources answered, since then which person's record a clinician sees would depend on the
/// alphabet (hazard WCR-H26): the demographics service's Patient decides when there is one; without it, the registered
/// GP practice's own record does, when every source names the same practice and exactly one tied group holds that
/// practice's record; otherwise the choice is <see cref="ReferenceChoice.Unresolved"/>. Within the winning group the
/// given name, gender and postcode come from the first source that has them, verified sources first, then by ODS code:
/// those sources already agree on who the patient is.
/// </para>
/// <para>
/// Caller-supplied demographics count only if they hold a date of birth or a family name; whatever they leave out is
/// filled from the sources' choice (nothing, when that is unresolved).
/// </para>
/// </remarks>
public static class ReferenceDemographics
{
    internal const string SuppliedByCaller = "supplied by the caller";

    /// <summary>Chooses the reference demographics (see the remarks).</summary>
    /// <param name="sources">Each source's ODS code and the Patient it holds for the NHS number.</param>
    /// <param name="callerSupplied">Demographics the caller gave with the request, if any.</param>
    /// <param name="tieBreakers">What may settle a tie between equally weighted groups; none when null.</param>
    public static ReferenceChoice Choose(IReadOnlyList<(string OdsCode, Patient Patient)> sources, Demographics? callerSupplied, TieBreakers? tieBreakers = null)
    {
        ArgumentNullException.ThrowIfNull(sources);

        if (callerSupplied is not null && string.IsNullOrWhiteSpace(callerSupplied.BirthDate) && string.IsNullOrWhiteSpace(callerSupplied.Family))
        {
            callerSupplied = null;
        }

        var fromSources = ChooseFromSources(sources, tieBreakers ?? TieBreakers.None, callerSupplied);
        if (callerSupplied is null)
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

    /// <summary>
    /// Whether the sources' vote ends in a tie that only <see cref="TieBreakers"/> can settle, so the demographics
    /// service need be asked only then.
    /// </summary>
    public static bool IsTied(IReadOnlyList<(string OdsCode, Patient Patient)> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        return Tied(Vote(sources)).Count > 1;
    }

    private static ReferenceChoice ChooseFromSources(IReadOnlyList<(string OdsCode, Patient Patient)> sources, TieBreakers tieBreakers, Demographics? callerSupplied)
    {
        var groups = Vote(sources);
        if (groups.Count == 0)
        {
            return new ReferenceChoice(
                Demographics.Empty,
                sources.Count == 0 ? "no sources hold this patient" : "no source records a date of birth or family name",
                []);
        }

        var tied = Tied(groups);
        VoteGroup winner;
        var tieBreak = "";
        if (tied.Count == 1)
        {
            winner = tied[0];
            if (groups.Count > 1 && groups[1].Weight == winner.Weight)
            {
                tieBreak = "; chosen over an equally weighted group for having more verified NHS numbers";
            }
        }
        else if (callerSupplied is not null && ConsistentWith(tied, callerSupplied) is { } callers)
        {
            // The caller's own demographics decide anyway; the group they agree with only fills in what they left out.
            winner = callers;
            tieBreak = "; chosen over an equally weighted group as agreeing with what the caller supplied";
        }
        else if (tieBreakers.Service is { } service)
        {
            // The service is the authority for who holds this NHS number; a group it does not confirm is not chosen
            // by any weaker rule, so a service that confirms no tied group (or several) leaves the choice unresolved.
            var family = NameNormaliser.Normalise(service.Family);
            var confirmed = tied.Where(g => g.BirthDate == (service.BirthDate ?? "") && g.Family == family).ToList();
            if (confirmed.Count != 1)
            {
                return Unresolved(sources.Count, tied, "the demographics service confirmed none of them");
            }

            winner = confirmed[0];
            tieBreak = "; chosen over an equally weighted group as confirmed by the demographics service";
        }
        else
        {
            var practice = tied.Where(g => g.Members.Any(m => tieBreakers.RegisteredPractices.Contains(m.OdsCode))).ToList();
            if (practice.Count != 1)
            {
                return Unresolved(
                    sources.Count,
                    tied,
                    tieBreakers.RegisteredPractices.Count == 0
                        ? "no demographics service answered and the sources do not all name the same registered GP practice"
                        : "no demographics service answered and the registered GP practice's record does not settle it");
            }

            winner = practice[0];
            var practiceCodes = winner.Members.Select(m => m.OdsCode).Where(tieBreakers.RegisteredPractices.Contains).Order(StringComparer.Ordinal);
            tieBreak = $"; chosen over an equally weighted group as the registered GP practice's record ({string.Join(", ", practiceCodes)})";
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

    /// <summary>
    /// The sources' groups, heaviest first. Nothing here orders by ODS code or by the order sources answered, except
    /// members within a group (who agree on the patient) and groups equal in weight and verified count, whose order
    /// <see cref="Tied"/> never lets decide.
    /// </summary>
    private static List<VoteGroup> Vote(IReadOnlyList<(string OdsCode, Patient Patient)> sources) =>
        [.. sources
            .Select(s => (s.OdsCode, Demographics: Demographics.From(s.Patient)))
            .Where(v => !string.IsNullOrWhiteSpace(v.Demographics.BirthDate) || !string.IsNullOrWhiteSpace(v.Demographics.Family))
            .GroupBy(v => (BirthDate: v.Demographics.BirthDate ?? "", Family: NameNormaliser.Normalise(v.Demographics.Family)))
            .Select(g =>
            {
                List<(string OdsCode, Demographics Demographics)> members = [.. g
                    .OrderByDescending(v => v.Demographics.NhsNumberVerified)
                    .ThenBy(v => v.OdsCode, StringComparer.Ordinal)];
                return new VoteGroup(
                    g.Key.BirthDate,
                    g.Key.Family,
                    members,
                    members.Sum(v => v.Demographics.NhsNumberVerified ? 2 : 1),
                    members.Count(v => v.Demographics.NhsNumberVerified));
            })
            .OrderByDescending(g => g.Weight)
            .ThenByDescending(g => g.Verified)
            // Only so the text lists groups the same way whatever order the sources answered in.
            .ThenBy(g => g.Members.Min(m => m.OdsCode), StringComparer.Ordinal)];

    /// <summary>The one tied group whose date of birth and family name agree with whichever of them the caller gave, if exactly one does.</summary>
    private static VoteGroup? ConsistentWith(List<VoteGroup> tied, Demographics caller)
    {
        var family = NameNormaliser.Normalise(caller.Family);
        var consistent = tied.Where(g =>
            (string.IsNullOrWhiteSpace(caller.BirthDate) || g.BirthDate == caller.BirthDate.Trim())
            && (string.IsNullOrWhiteSpace(caller.Family) || g.Family == family)).ToList();
        return consistent.Count == 1 ? consistent[0] : null;
    }

    /// <summary>The heaviest groups, equal in weight and in verified sources: more than one is a tie.</summary>
    private static List<VoteGroup> Tied(List<VoteGroup> groups) =>
        groups.Count == 0 ? [] : [.. groups.Where(g => g.Weight == groups[0].Weight && g.Verified == groups[0].Verified)];

    private static ReferenceChoice Unresolved(int sourceCount, List<VoteGroup> tied, string why)
    {
        var listed = string.Join("; ", tied.Select(g => string.Join(", ", g.Members.Select(m => m.OdsCode).Order(StringComparer.Ordinal))));
        return new ReferenceChoice(
            Demographics.Empty,
            string.Create(CultureInfo.InvariantCulture, $"not chosen: {tied.Count} equally weighted groups of the {sourceCount} sources disagree on date of birth or family name ({listed}) and {why}"),
            [],
            Unresolved: true);
    }

    private sealed record VoteGroup(string BirthDate, string Family, List<(string OdsCode, Demographics Demographics)> Members, int Weight, int Verified);
}
