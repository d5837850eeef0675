using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Pages.Onboarding;

/// <summary>How a lifecycle state is shown: words and an nhsuk tag colour.</summary>
public static class StateTag
{
    public static string Words(LifecycleState state) => state switch
    {
        LifecycleState.AgreementSigned => "Agreement signed",
        LifecycleState.FlowTested => "Flow tested",
        _ => state.ToString(),
    };

    public static string CssClass(LifecycleState state) => "nhsuk-tag " + state switch
    {
        LifecycleState.Live => "nhsuk-tag--green",
        LifecycleState.Pilot => "nhsuk-tag--aqua-green",
        LifecycleState.FlowTested => "nhsuk-tag--blue",
        LifecycleState.AgreementSigned => "nhsuk-tag--purple",
        LifecycleState.Registered => "nhsuk-tag--grey",
        LifecycleState.Suspended => "nhsuk-tag--red",
        LifecycleState.Withdrawn => "nhsuk-tag--white",
        _ => "",
    };
}
