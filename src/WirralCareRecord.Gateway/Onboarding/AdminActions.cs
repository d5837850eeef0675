using Azure;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Storage;

namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>
/// Every change an onboarding admin makes goes through here: judged against the latest stored registry, audited
/// before it is stored (so no change exists that the audit log does not know of), and audited again if it is refused
/// or cannot be stored.
/// </summary>
internal sealed class AdminActions(ManagedOrganisationRegistry registry, AuditTrail audit, TimeProvider time, IOptions<GatewayAuthenticationOptions> authentication)
{
    /// <summary>Who is acting, for the registry's history.</summary>
    public string Actor(HttpContext context) =>
        CallerIdentity.Of(context, authentication.Value) is { } caller
            ? caller.DisplayName is { Length: > 0 } name ? $"{name} ({caller.UserId})" : caller.UserId
            : "unknown";

    /// <summary>The acting user's stable id: what the two-person rule compares.</summary>
    public string ActorId(HttpContext context) => CallerIdentity.Of(context, authentication.Value)?.UserId ?? "unknown";

    public DateTimeOffset Now => time.GetUtcNow();

    /// <summary>
    /// Applies <paramref name="change"/> (which throws <see cref="RegistryRefusal"/> to refuse) and stores it.
    /// <paramref name="subject"/> names what changes, e.g. <c>Organization/N85001</c>; <paramref name="action"/> says how, in words;
    /// <paramref name="describe"/> adds what the stored change did (from and to); <paramref name="nhsNumber"/> names a patient the action concerned.
    /// </summary>
    public async Task<RegistrySnapshot> ChangeAsync(
        HttpContext context, string subject, string action, Func<RegistrySnapshot, RegistrySnapshot> change, Func<RegistrySnapshot, string?>? describe = null, string? nhsNumber = null)
    {
        var audited = false;
        try
        {
            return await registry.UpdateAsync(change, async next =>
            {
                if (!audited)
                {
                    await RecordAsync(context, subject, describe?.Invoke(next) is { } what ? $"{action}: {what}" : action, StatusCodes.Status200OK, nhsNumber);
                    audited = true;
                }
            }, context.RequestAborted);
        }
        catch (RegistryRefusal refusal)
        {
            await RecordAsync(context, subject, $"{action}: refused: {refusal.Message}", refusal.StatusCode, nhsNumber);
            throw;
        }
        catch (StorageConflictException)
        {
            await RecordAsync(context, subject, $"{action}: not stored, the registry kept changing", StatusCodes.Status409Conflict);
            throw new RegistryRefusal(StatusCodes.Status409Conflict, "The registry changed several times while this change was being made; try again.");
        }
        catch (Exception ex) when (ex is RequestFailedException or IOException)
        {
            await RecordAsync(context, subject, $"{action}: not stored, registry storage unavailable", StatusCodes.Status503ServiceUnavailable);
            throw new RegistryRefusal(StatusCodes.Status503ServiceUnavailable, "Registry storage is unavailable; nothing was changed. Try again shortly.");
        }
    }

    /// <summary>Audits an admin action that is not a registry change (a flow test, a document upload).</summary>
    public Task RecordAsync(HttpContext context, string subject, string description, int status, string? nhsNumber = null) =>
        audit.RecordAsync(
            AccessAudit.For(
                CallerIdentity.Of(context, authentication.Value),
                AccessKind.AdminAction,
                context.CorrelationId(),
                nhsNumber,
                $"{context.Request.Method} {context.Request.Path}",
                status,
                description,
                [],
                subject: subject),
            context.RequestAborted);

    /// <summary>
    /// The change that <paramref name="ifMatch"/> was made against must still be current: someone else's edit is never
    /// overwritten. Every change needs it, and <c>*</c> (any version) is refused: it would say nothing about what was read.
    /// </summary>
    public static void CheckPrecondition(Organisation organisation, string? ifMatch)
    {
        if (string.IsNullOrWhiteSpace(ifMatch))
        {
            throw new RegistryRefusal(StatusCodes.Status428PreconditionRequired, $"Send If-Match with the ETag of {organisation.OdsCode} from your last GET, so your change cannot overwrite someone else's.");
        }

        var tags = ifMatch.Split(',').Select(t => t.Trim()).ToList();
        if (tags.Contains("*", StringComparer.Ordinal))
        {
            throw new RegistryRefusal(StatusCodes.Status428PreconditionRequired, $"If-Match: * is not accepted; send the ETag of {organisation.OdsCode} from your last GET.");
        }

        if (!tags.Contains(organisation.ETag, StringComparer.Ordinal))
        {
            throw new RegistryRefusal(StatusCodes.Status412PreconditionFailed, $"{organisation.OdsCode} has changed since you read it (now {organisation.ETag}); read it again and redo your change.");
        }
    }
}
