using WirralCareRecord.Gateway.Agreements;

namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>
/// The onboarding lifecycle: <c>Registered → AgreementSigned → FlowTested → Pilot → Live</c>, with <c>Suspended</c>
/// and <c>Withdrawn</c>. Which moves are allowed, and what each needs, in one place.
/// </summary>
public static class Lifecycle
{
    private static readonly Dictionary<LifecycleState, LifecycleState[]> Moves = new()
    {
        [LifecycleState.Registered] = [LifecycleState.AgreementSigned, LifecycleState.Withdrawn],
        [LifecycleState.AgreementSigned] = [LifecycleState.FlowTested, LifecycleState.Suspended, LifecycleState.Withdrawn],
        [LifecycleState.FlowTested] = [LifecycleState.Pilot, LifecycleState.Live, LifecycleState.Suspended, LifecycleState.Withdrawn],
        [LifecycleState.Pilot] = [LifecycleState.Live, LifecycleState.Suspended, LifecycleState.Withdrawn],
        [LifecycleState.Live] = [LifecycleState.Suspended, LifecycleState.Withdrawn],

        // Back from suspension straight to where it was, once the checks pass again; or start over from the agreement.
        [LifecycleState.Suspended] = [LifecycleState.AgreementSigned, LifecycleState.FlowTested, LifecycleState.Pilot, LifecycleState.Live, LifecycleState.Withdrawn],
        [LifecycleState.Withdrawn] = [],
    };

    /// <summary>The states an organisation in <paramref name="state"/> may move to, before any checks.</summary>
    public static IReadOnlyList<LifecycleState> AllowedFrom(LifecycleState state) => Moves[state];

    /// <summary>
    /// Why <paramref name="organisation"/> cannot move to <paramref name="to"/> now, or an empty list when it can.
    /// Every problem is reported, so an admin fixes them all at once.
    /// </summary>
    public static IReadOnlyList<string> Problems(RegistrySnapshot registry, Organisation organisation, LifecycleState to, DateTimeOffset now, TimeSpan flowTestMaxAge)
    {
        if (!Moves[organisation.State].Contains(to))
        {
            var allowed = Moves[organisation.State];
            return [$"{organisation.OdsCode} is {organisation.State}; it can move to {(allowed.Length == 0 ? "nothing (withdrawal is final)" : string.Join(", ", allowed))}, not {to}."];
        }

        var problems = new List<string>();
        var today = UkDate.On(now);
        if (to is LifecycleState.AgreementSigned or LifecycleState.FlowTested or LifecycleState.Pilot or LifecycleState.Live)
        {
            var agreements = registry.AgreementsOf(organisation.OdsCode).Where(a => !a.Revoked && a.Expires >= today).ToList();
            if (agreements.Count == 0)
            {
                problems.Add($"{organisation.OdsCode} is not a party to any data sharing agreement that is signed, unrevoked and unexpired.");
            }
            else if (!agreements.Any(a => a.Document is not null))
            {
                problems.Add($"The signed document of {string.Join(", ", agreements.Select(a => $"{a.Id} v{a.Version}"))} has not been uploaded.");
            }

            if (to is LifecycleState.Pilot or LifecycleState.Live && !agreements.Any(a => a.IsActiveOn(today)))
            {
                problems.Add($"No agreement naming {organisation.OdsCode} is in force today ({today:yyyy-MM-dd}).");
            }
        }

        if (to is LifecycleState.FlowTested or LifecycleState.Pilot or LifecycleState.Live)
        {
            var test = organisation.LastFlowTest;
            if (test is null)
            {
                problems.Add($"{organisation.OdsCode} has no flow test; run one first.");
            }
            else if (!test.Passed)
            {
                problems.Add($"The latest flow test ({test.ReportId}) failed: {test.Summary}");
            }
            else if (now - test.RanAt > flowTestMaxAge)
            {
                problems.Add($"The latest passed flow test ({test.ReportId}, {test.RanAt:yyyy-MM-dd}) is older than {flowTestMaxAge.TotalDays:0.#} days; run it again.");
            }
        }

        if (to is LifecycleState.Pilot or LifecycleState.Live && registry.FindPhase(organisation.Phase) is { Status: PhaseStatus.Held } phase)
        {
            problems.Add($"Phase {phase.Number} ({phase.Name}) is held; open it before promoting its organisations.");
        }

        return problems;
    }
}
