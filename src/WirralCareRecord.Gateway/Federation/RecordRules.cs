using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Authentication;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>
/// The patient-level rules every disclosure obeys, worded once: the federated read and the source route both ask
/// here, so a rule cannot be enforced on one and forgotten on the other. Each returns the notice for an access opened
/// by break-glass, null when the rule does not apply, or throws a 403 that says how to override.
/// </summary>
internal static class RecordRules
{
    public static OperationOutcome.IssueComponent? Objection(FederatedRecordService federation, string nhsNumber, string? breakGlass) =>
        federation.ObjectionFor(nhsNumber) is { } objection
            ? BreakGlass.OverrideOrRefuse(
                breakGlass,
                OperationOutcome.IssueType.Suppressed,
                $"This patient has opted out: they objected on {objection.RecordedOn:d MMMM yyyy} to their record being shared through the Wirral Care Record, so no source has been asked.",
                "This patient has opted out of the Wirral Care Record.")
            : null;

    public static OperationOutcome.IssueComponent? Relationship(FederatedRecordService federation, IReadOnlyList<SourceResult> results, CallerIdentity caller, string? breakGlass) =>
        federation.RequiresLegitimateRelationship(caller) && !federation.HasLegitimateRelationship(results, caller)
            ? BreakGlass.OverrideOrRefuse(
                breakGlass,
                OperationOutcome.IssueType.Forbidden,
                $"{caller.OdsCode} has no recorded relationship with this patient (not registered with you, and not seen by you recently), so the record is not shown.",
                "No relationship with this patient is recorded for your organisation.")
            : null;
}
