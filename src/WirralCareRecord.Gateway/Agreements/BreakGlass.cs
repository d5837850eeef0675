using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Agreements;

/// <summary>
/// Emergency override: a clinician may open a record the sharing rules would otherwise close (an objection, no
/// legitimate relationship) by giving a reason. The access is audited as break-glass (ActReason BTG) for review.
/// </summary>
public static class BreakGlass
{
    public const string Header = "X-Break-Glass-Reason";
    public const string Parameter = "breakGlassReason";
    public const int MinimumReasonLength = 10;

    /// <summary>The longest reason accepted: enough to say why, short enough that the audit line stays small. Never echoed.</summary>
    public const int MaximumReasonLength = 500;

    /// <summary>
    /// The trimmed reason, null when none was given; a reason too short to review, or longer than
    /// <see cref="MaximumReasonLength"/>, is refused without repeating it. Every route that takes a reason (API query,
    /// header, Parameters body, source route, record page) checks it here.
    /// </summary>
    public static string? Validate(string? reason)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            return null;
        }

        var trimmed = reason.Trim();
        return trimmed.Length switch
        {
            < MinimumReasonLength => throw new InvalidRequestException($"A break-glass reason must say why, in at least {MinimumReasonLength} characters, so the access can be reviewed."),
            > MaximumReasonLength => throw new InvalidRequestException($"A break-glass reason must be at most {MaximumReasonLength} characters; say why briefly."),
            _ => trimmed,
        };
    }

    /// <summary>
    /// A rule that closes the record: refused (403, with how to override) without a break-glass reason; with one, the
    /// record opens and the returned warning goes in the answer so the clinician knows the access will be reviewed.
    /// </summary>
    public static OperationOutcome.IssueComponent OverrideOrRefuse(string? reason, OperationOutcome.IssueType code, string refusal, string openedBecause) =>
        reason is null
            ? throw new GatewayException(
                StatusCodes.Status403Forbidden,
                code,
                $"{refusal} In an emergency you may override this with a break-glass reason (header {Header} or parameter {Parameter}); the access will be reviewed.")
            : Outcomes.Issue(OperationOutcome.IssueSeverity.Warning, code, $"{openedBecause} The record has been opened by break-glass and the access will be reviewed.");
}
