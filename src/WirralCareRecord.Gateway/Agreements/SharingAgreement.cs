namespace WirralCareRecord.Gateway.Agreements;

/// <summary>
/// A signed data sharing agreement. Providers make their data available; consumers may view it.
/// An organisation usually signs as both.
/// </summary>
/// <param name="DataCategories">FHIR resource types the agreement permits; empty means every category the gateway federates.</param>
public sealed record SharingAgreement(
    string Id,
    string Version,
    IReadOnlyList<string> Providers,
    IReadOnlyList<string> Consumers,
    string SignedBy,
    DateOnly SignedOn,
    DateOnly EffectiveFrom,
    DateOnly Expires,
    bool Revoked,
    IReadOnlyList<string> DataCategories)
{
    /// <summary>Active on <paramref name="day"/>: signed, not revoked, and within its effective dates (inclusive).</summary>
    public bool IsActiveOn(DateOnly day) => !Revoked && day >= EffectiveFrom && day <= Expires;
}
