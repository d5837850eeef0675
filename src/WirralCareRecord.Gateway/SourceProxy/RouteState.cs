using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Authentication;

namespace WirralCareRecord.Gateway.SourceProxy;

/// <summary>
/// What the source route decided about a request before forwarding it, carried to the response transform: the caller,
/// the source's grant, the checked request, the patient (once known) and any break-glass reason.
/// </summary>
internal sealed class RouteState(CallerIdentity caller, SourceGrant grant, RouteRequest request, string? breakGlass)
{
    public CallerIdentity Caller { get; } = caller;

    public SourceGrant Grant { get; } = grant;

    public RouteRequest Request { get; } = request;

    public string? BreakGlass { get; } = breakGlass;

    public RoutePatient? Patient { get; set; }

    public string OdsCode => Grant.Source.OdsCode;
}
