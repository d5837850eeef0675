using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Onboarding;

public sealed class LifecycleTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan MaxAge = TimeSpan.FromDays(30);
    private static readonly DateOnly Today = new(2026, 11, 23);

    /// <summary>Every move the lifecycle allows, with every prerequisite met; anything not listed must be refused.</summary>
    private static readonly HashSet<(LifecycleState From, LifecycleState To)> Allowed =
    [
        (LifecycleState.Registered, LifecycleState.AgreementSigned),
        (LifecycleState.Registered, LifecycleState.Withdrawn),
        (LifecycleState.AgreementSigned, LifecycleState.FlowTested),
        (LifecycleState.AgreementSigned, LifecycleState.Suspended),
        (LifecycleState.AgreementSigned, LifecycleState.Withdrawn),
        (LifecycleState.FlowTested, LifecycleState.Pilot),
        (LifecycleState.FlowTested, LifecycleState.Live),
        (LifecycleState.FlowTested, LifecycleState.Suspended),
        (LifecycleState.FlowTested, LifecycleState.Withdrawn),
        (LifecycleState.Pilot, LifecycleState.Live),
        (LifecycleState.Pilot, LifecycleState.Suspended),
        (LifecycleState.Pilot, LifecycleState.Withdrawn),
        (LifecycleState.Live, LifecycleState.Suspended),
        (LifecycleState.Live, LifecycleState.Withdrawn),
        (LifecycleState.Suspended, LifecycleState.AgreementSigned),
        (LifecycleState.Suspended, LifecycleState.FlowTested),
        (LifecycleState.Suspended, LifecycleState.Pilot),
        (LifecycleState.Suspended, LifecycleState.Live),
        (LifecycleState.Suspended, LifecycleState.Withdrawn),
    ];

    public static TheoryData<LifecycleState, LifecycleState> EveryPair()
    {
        var data = new TheoryData<LifecycleState, LifecycleState>();
        foreach (var from in Enum.GetValues<LifecycleState>())
        {
            foreach (var to in Enum.GetValues<LifecycleState>())
            {
                data.Add(from, to);
            }
        }

        return data;
    }

    private static Organisation Practice(LifecycleState state, FlowTestSummary? flowTest = null, int phase = 1) =>
        new("N85099", "New Practice", OrganisationKind.GpPractice, new Uri("https://gp.example.nhs.uk/fhir"), phase, state)
        {
            LastFlowTest = flowTest,
        };

    private static FlowTestSummary Passed(int daysAgo = 1) => new("ft-1", Now.AddDays(-daysAgo), true, "All 3 steps passed.");

    private static SharingAgreement Agreement(DateOnly? effectiveFrom = null, DateOnly? expires = null, bool revoked = false, bool document = true) =>
        new("WCR-DSA-1", "2", ["N85099", "RBL"], ["N85099", "RBL"], "IG lead", Today.AddDays(-10), effectiveFrom ?? Today.AddDays(-10), expires ?? Today.AddYears(1), revoked, [])
        {
            Document = document ? GatewayHost.SignedDocument : null,
        };

    private static RegistrySnapshot Registry(Organisation organisation, params SharingAgreement[] agreements) =>
        new([organisation], agreements) { Phases = [new Phase(1, "Pilot", PhaseStatus.Open)] };

    [Theory]
    [MemberData(nameof(EveryPair))]
    public void Every_move_is_allowed_exactly_when_the_lifecycle_allows_it(LifecycleState from, LifecycleState to)
    {
        var organisation = Practice(from, Passed());

        var problems = Lifecycle.Problems(Registry(organisation, Agreement()), organisation, to, Now, MaxAge);

        Assert.Equal(Allowed.Contains((from, to)), problems.Count == 0);
        if (!Allowed.Contains((from, to)))
        {
            Assert.Contains($"not {to}", Assert.Single(problems), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(LifecycleState.Registered, LifecycleState.AgreementSigned)]
    [InlineData(LifecycleState.FlowTested, LifecycleState.Live)]
    public void Without_any_agreement_promotion_is_refused(LifecycleState from, LifecycleState to)
    {
        var organisation = Practice(from, Passed());

        var problems = Lifecycle.Problems(Registry(organisation), organisation, to, Now, MaxAge);

        Assert.Contains(problems, p => p.Contains("not a party to any data sharing agreement", StringComparison.Ordinal));
    }

    [Fact]
    public void An_agreement_whose_document_is_not_uploaded_does_not_count_as_signed()
    {
        var organisation = Practice(LifecycleState.Registered);

        var problems = Lifecycle.Problems(Registry(organisation, Agreement(document: false)), organisation, LifecycleState.AgreementSigned, Now, MaxAge);

        Assert.Contains("WCR-DSA-1 v2 has not been uploaded", Assert.Single(problems), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void A_revoked_or_expired_agreement_blocks_going_live(bool revoked, bool expired)
    {
        var organisation = Practice(LifecycleState.Pilot, Passed());
        var agreement = Agreement(expires: expired ? Today.AddDays(-1) : null, revoked: revoked);

        var problems = Lifecycle.Problems(Registry(organisation, agreement), organisation, LifecycleState.Live, Now, MaxAge);

        Assert.NotEmpty(problems);
    }

    [Fact]
    public void An_agreement_signed_but_not_yet_in_force_allows_testing_but_not_pilot()
    {
        var organisation = Practice(LifecycleState.FlowTested, Passed());
        var registry = Registry(organisation, Agreement(effectiveFrom: Today.AddDays(7)));

        Assert.Empty(Lifecycle.Problems(registry, organisation with { State = LifecycleState.AgreementSigned }, LifecycleState.FlowTested, Now, MaxAge));
        Assert.Contains("in force today (2026-11-23)", Assert.Single(Lifecycle.Problems(registry, organisation, LifecycleState.Pilot, Now, MaxAge)), StringComparison.Ordinal);
    }

    [Fact]
    public void No_flow_test_a_failed_one_or_a_stale_one_each_block_promotion_and_say_why()
    {
        var none = Practice(LifecycleState.AgreementSigned);
        var failed = Practice(LifecycleState.AgreementSigned, new FlowTestSummary("ft-9", Now.AddDays(-1), false, "Test patient: the test patient was not found by NHS number."));
        var stale = Practice(LifecycleState.FlowTested, Passed(daysAgo: 31));

        Assert.Contains("has no flow test", Assert.Single(Lifecycle.Problems(Registry(none, Agreement()), none, LifecycleState.FlowTested, Now, MaxAge)), StringComparison.Ordinal);
        Assert.Contains("ft-9) failed: Test patient: the test patient was not found", Assert.Single(Lifecycle.Problems(Registry(failed, Agreement()), failed, LifecycleState.FlowTested, Now, MaxAge)), StringComparison.Ordinal);
        Assert.Contains("older than 30 days", Assert.Single(Lifecycle.Problems(Registry(stale, Agreement()), stale, LifecycleState.Live, Now, MaxAge)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_held_phase_blocks_promotion_but_not_suspension()
    {
        var organisation = Practice(LifecycleState.FlowTested, Passed());
        var registry = Registry(organisation, Agreement()) with { Phases = [new Phase(1, "Pilot", PhaseStatus.Held)] };

        Assert.Contains("Phase 1 (Pilot) is held", Assert.Single(Lifecycle.Problems(registry, organisation, LifecycleState.Live, Now, MaxAge)), StringComparison.Ordinal);
        Assert.Empty(Lifecycle.Problems(registry, organisation, LifecycleState.Suspended, Now, MaxAge));
    }
}
