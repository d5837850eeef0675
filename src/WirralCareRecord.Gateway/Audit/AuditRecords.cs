using WirralCareRecord.Gateway.Authentication;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>What happened at one source during a read, as the audit log keeps it.</summary>
/// <param name="Outcome">A code from the gateway's <c>wcr-source-outcome</c> CodeSystem.</param>
public sealed record SourceAuditEntry(string OdsCode, string Outcome, int Resources, int Withheld, int Calls);

/// <summary>
/// How the clinician reached the record. The outcomes framework counts retrievals "from their local system": by the
/// local system's own API call, or by a context launch from it.
/// </summary>
public enum AccessChannel
{
    /// <summary>The clinician's own record system called the gateway's API (a bearer token).</summary>
    LocalSystem,

    /// <summary>A SMART App Launch EHR launch from the clinician's own record system, which named the patient.</summary>
    ContextLaunch,

    /// <summary>The gateway's own web pages, signed in there and the NHS number typed.</summary>
    GatewayPages,
}

/// <summary>The kind of access being audited; each maps to a BALP pattern.</summary>
public enum AccessKind
{
    /// <summary><c>$wcr-getrecord</c>: a query across sources (BALP Query).</summary>
    FederatedRead,

    /// <summary>A read or search through one source's route (BALP Read / Query).</summary>
    SourceRead,

    /// <summary>A change to the registry or an agreement by an onboarding admin (BALP RESTful create/update).</summary>
    AdminAction,

    /// <summary>An auditor's search, export, report, verification or disclosure listing of the audit log itself (BALP Query).</summary>
    AuditorQuery,
}

/// <summary>Everything the audit log records about one access, allowed or refused.</summary>
/// <param name="UserId">Null when the caller could not be identified (no or invalid token).</param>
/// <param name="Subject">For admin actions, what was changed, as a relative reference (e.g. <c>Organization/N85001</c>).</param>
public sealed record AccessAudit(
    AccessKind Kind,
    string CorrelationId,
    string? UserId,
    string? UserName,
    IReadOnlyList<string> Roles,
    string? OrganisationOds,
    string PurposeOfUse,
    string? NhsNumber,
    string Request,
    int HttpStatus,
    string? OutcomeDescription,
    IReadOnlyList<SourceAuditEntry> Sources,
    string? BreakGlassReason = null,
    string? Subject = null)
{
    /// <summary>How the caller reached the gateway; recorded with every access.</summary>
    public AccessChannel Channel { get; init; } = AccessChannel.LocalSystem;

    /// <summary>An access by <paramref name="caller"/> (null when the caller could not be identified).</summary>
    public static AccessAudit For(
        CallerIdentity? caller,
        AccessKind kind,
        string correlationId,
        string? nhsNumber,
        string request,
        int httpStatus,
        string? description,
        IReadOnlyList<SourceAuditEntry> sources,
        string? breakGlassReason = null,
        string? subject = null) => new(
            kind,
            correlationId,
            caller?.UserId,
            caller?.DisplayName,
            caller?.Roles ?? [],
            caller?.OdsCode,
            caller?.PurposeOfUse ?? CallerIdentity.DirectCare,
            nhsNumber,
            request,
            httpStatus,
            description,
            sources,
            breakGlassReason,
            subject)
        { Channel = caller?.Channel ?? AccessChannel.LocalSystem };
}
