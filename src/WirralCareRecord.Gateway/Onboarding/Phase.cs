namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>Whether organisations in a phase may be promoted to pilot or live.</summary>
public enum PhaseStatus
{
    /// <summary>Promotions go ahead as organisations pass their checks.</summary>
    Open,

    /// <summary>No promotions (for example while testing issues are resolved); organisations already sharing carry on.</summary>
    Held,
}

/// <summary>A step of the roll-out: the hospital and pilot practices, then every practice, then the community trust, and so on.</summary>
public sealed record Phase(int Number, string Name, PhaseStatus Status);

/// <summary>
/// One entry in the registry's history: who changed what, when and why. Never edited or removed; the audit log holds
/// the same facts independently.
/// </summary>
/// <param name="Subject">What changed, as a relative reference: <c>Organization/N85001</c>, <c>Agreement/WCR-DSA-1</c>, <c>Phase/2</c>.</param>
public sealed record RegistryChange(
    string Subject,
    string Action,
    DateTimeOffset At,
    string By,
    string Reason,
    LifecycleState? From = null,
    LifecycleState? To = null);
