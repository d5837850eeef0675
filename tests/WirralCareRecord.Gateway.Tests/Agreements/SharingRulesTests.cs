using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Agreements;

public sealed class SharingRulesTests
{
    private static readonly DateOnly Today = new(2026, 11, 23);

    private static Organisation Org(string ods, LifecycleState state, OrganisationKind kind = OrganisationKind.GpPractice) =>
        new(ods, ods + " name", kind, new Uri($"https://{ods.ToLowerInvariant()}.example/fhir"), 1, state);

    private static SharingAgreement Agreement(string id, string[] providers, string[] consumers, DateOnly? expires = null, bool revoked = false, string[]? categories = null) =>
        new(id, "1", providers, consumers, "IG lead", Today.AddDays(-100), Today.AddDays(-100), expires ?? Today.AddDays(100), revoked, categories ?? [])
        {
            Document = GatewayHost.SignedDocument,
        };

    [Fact]
    public void SelectSources_LiveSourcesUnderAgreementInForce_AreSelected()
    {
        var registry = new RegistrySnapshot(
            [Org("N85001", LifecycleState.Live), Org("RBL", LifecycleState.Live, OrganisationKind.AcuteTrust), Org("RY7", LifecycleState.FlowTested), Org("N85002", LifecycleState.Suspended)],
            [Agreement("A", ["N85001", "RBL", "RY7", "N85002"], ["N85001"])]);

        var sources = SharingRules.SelectSources(registry, "N85001", Today);

        Assert.Equal(["N85001", "RBL"], sources.Select(s => s.Source.OdsCode));
    }

    [Fact]
    public void SelectSources_AgreementExpiredYesterday_StopsSharingToday()
    {
        var registry = new RegistrySnapshot([Org("RBL", LifecycleState.Live)], [Agreement("A", ["RBL"], ["N85001"], expires: Today.AddDays(-1))]);

        Assert.Empty(SharingRules.SelectSources(registry, "N85001", Today));
        Assert.Single(SharingRules.SelectSources(registry, "N85001", Today.AddDays(-1)));
    }

    [Fact]
    public void SelectSources_PilotSource_OnlyForPilotCallers()
    {
        var registry = new RegistrySnapshot(
            [Org("RBL", LifecycleState.Pilot), Org("N85001", LifecycleState.Pilot), Org("N85002", LifecycleState.Live)],
            [Agreement("A", ["RBL"], ["N85001", "N85002"])]);

        Assert.Single(SharingRules.SelectSources(registry, "N85001", Today));
        Assert.Empty(SharingRules.SelectSources(registry, "N85002", Today));
    }

    [Fact]
    public void Grant_CategoriesAreTheUnionOfAgreementsInForce()
    {
        var registry = new RegistrySnapshot(
            [Org("RBL", LifecycleState.Live)],
            [Agreement("A", ["RBL"], ["N85001"], categories: ["Condition"]), Agreement("B", ["RBL"], ["N85001"], categories: ["AllergyIntolerance"]), Agreement("C", ["RBL"], ["N85001"], revoked: true)]);

        var grant = SharingRules.Grant(registry, "RBL", "N85001", Today)!;

        Assert.True(grant.Permits("Condition"));
        Assert.True(grant.Permits("AllergyIntolerance"));
        Assert.False(grant.Permits("Observation"));
        Assert.Equal(["A", "B"], grant.AgreementIds);
    }

    [Theory]
    [InlineData(null, "no ODS code claim")]
    [InlineData("N85009", "not an active member")]
    [InlineData("N85002", "no data sharing agreement in force")]
    public void CanConsume_WithoutAgreement_SaysWhy(string? ods, string expected)
    {
        var registry = new RegistrySnapshot([Org("N85002", LifecycleState.Live)], [Agreement("A", ["N85002"], ["N85001"])]);

        var decision = SharingRules.CanConsume(registry, ods, Today);

        Assert.False(decision.Allowed);
        Assert.Contains(expected, decision.Reason, StringComparison.Ordinal);
    }
}
