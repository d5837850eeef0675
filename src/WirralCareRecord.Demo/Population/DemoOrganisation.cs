using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Demo.Population;

/// <summary>One of the synthetic source systems: who it is, and how the registry should list it.</summary>
/// <param name="Town">Where its main site is; shown on encounters and letters.</param>
public sealed record DemoOrganisation(string OdsCode, string Name, OrganisationKind Kind, int Phase, string Town);
