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

    /// <summary>The trimmed reason, null when none was given; a reason too short to review is refused.</summary>
    public static string? Validate(string? reason)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            return null;
        }

        var trimmed = reason.Trim();
        return trimmed.Length >= MinimumReasonLength
            ? trimmed
            : throw new InvalidRequestException($"A break-glass reason must say why, in at least {MinimumReasonLength} characters, so the access can be reviewed.");
    }
}
