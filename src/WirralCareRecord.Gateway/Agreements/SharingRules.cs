using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Agreements;

/// <summary>Why a caller's organisation may or may not view shared records.</summary>
public sealed record ConsumerDecision(bool Allowed, string Reason, SharingAgreement? Agreement);

/// <summary>A source the caller may see, and the data categories the agreements between them permit (empty: all).</summary>
public sealed record SourceGrant(Organisation Source, IReadOnlySet<string> Categories, IReadOnlyList<string> AgreementIds)
{
    public bool Permits(string resourceType) => Categories.Count == 0 || Categories.Contains(resourceType);
}

/// <summary>
/// The sharing rules, in one place: who may view, and whose data they may see. Decided afresh on every request
/// from the current registry, so an agreement that expires or is revoked stops sharing at once.
/// </summary>
public static class SharingRules
{
    /// <summary>Whether the caller's organisation holds an active agreement as a consumer on <paramref name="day"/>.</summary>
    public static ConsumerDecision CanConsume(RegistrySnapshot registry, string? callerOds, DateOnly day)
    {
        if (string.IsNullOrEmpty(callerOds))
        {
            return new(false, "Your sign-in does not say which organisation you work for (no ODS code claim), so the gateway cannot check a data sharing agreement.", null);
        }

        var caller = registry.Find(callerOds);
        if (caller is null || caller.State is LifecycleState.Suspended or LifecycleState.Withdrawn)
        {
            return new(false, $"Organisation {callerOds} is not an active member of the Wirral Care Record.", null);
        }

        var agreement = registry.Agreements.FirstOrDefault(a => a.IsActiveOn(day) && Contains(a.Consumers, callerOds));
        return agreement is null
            ? new(false, $"Organisation {callerOds} has no data sharing agreement in force today, so it cannot view shared records.", null)
            : StandingProblem(registry, caller) is { } problem
                ? new(false, problem, null)
                : new(true, $"Agreement {agreement.Id} v{agreement.Version}", agreement);
    }

    /// <summary>
    /// The sources a caller may see on <paramref name="day"/>: live sources (pilot sources only for pilot organisations)
    /// that share, under an agreement in force, with the caller's organisation.
    /// </summary>
    public static IReadOnlyList<SourceGrant> SelectSources(RegistrySnapshot registry, string callerOds, DateOnly day)
    {
        var callerIsPilot = registry.Find(callerOds)?.State == LifecycleState.Pilot;
        var grants = new List<SourceGrant>();
        foreach (var source in registry.Organisations)
        {
            if (GrantFor(registry, source, callerOds, day, callerIsPilot) is { } grant)
            {
                grants.Add(grant);
            }
        }

        return grants;
    }

    /// <summary>The grant for one source, or null when the caller may not see it today.</summary>
    public static SourceGrant? Grant(RegistrySnapshot registry, string sourceOds, string callerOds, DateOnly day)
    {
        var source = registry.Find(sourceOds);
        return source is null ? null : GrantFor(registry, source, callerOds, day, registry.Find(callerOds)?.State == LifecycleState.Pilot);
    }

    /// <summary>
    /// Why a consumer's clinicians may not view yet, or null: it must have signed (at least AgreementSigned), and in a
    /// held phase only organisations already sharing (pilot or live) carry on.
    /// </summary>
    public static string? StandingProblem(RegistrySnapshot registry, Organisation consumer) => consumer.State switch
    {
        LifecycleState.Registered => $"Organisation {consumer.OdsCode} is registered but has not yet signed its data sharing agreement, so it cannot view shared records.",
        LifecycleState.Suspended or LifecycleState.Withdrawn => $"Organisation {consumer.OdsCode} is not an active member of the Wirral Care Record.",
        LifecycleState.AgreementSigned or LifecycleState.FlowTested when registry.FindPhase(consumer.Phase) is { Status: PhaseStatus.Held } phase =>
            $"Organisation {consumer.OdsCode} is in phase {phase.Number} ({phase.Name}), which is held; it cannot start viewing shared records until the phase opens.",
        _ => null,
    };

    private static SourceGrant? GrantFor(RegistrySnapshot registry, Organisation source, string callerOds, DateOnly day, bool callerIsPilot)
    {
        if (registry.Find(callerOds) is { } caller && StandingProblem(registry, caller) is not null)
        {
            return null;
        }

        var visible = source.State == LifecycleState.Live || (source.State == LifecycleState.Pilot && callerIsPilot);
        if (!visible)
        {
            return null;
        }

        var agreements = registry.Agreements
            .Where(a => a.IsActiveOn(day) && Contains(a.Providers, source.OdsCode) && Contains(a.Consumers, callerOds))
            .ToList();
        if (agreements.Count == 0)
        {
            return null;
        }

        // Any agreement without a category list permits everything; otherwise the union of what they permit.
        var categories = agreements.Any(a => a.DataCategories.Count == 0)
            ? new HashSet<string>(StringComparer.Ordinal)
            : agreements.SelectMany(a => a.DataCategories).ToHashSet(StringComparer.Ordinal);
        return new SourceGrant(source, categories, [.. agreements.Select(a => a.Id)]);
    }

    private static bool Contains(IReadOnlyList<string> odsCodes, string ods) =>
        odsCodes.Any(c => string.Equals(c, ods, StringComparison.OrdinalIgnoreCase));
}
