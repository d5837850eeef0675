using System.Text.Json;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.DataProtection;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Pages.Record;

/// <summary>
/// A letter link on the record page: which letter, at which source, for which patient, for whom. Sealed by data
/// protection (no NHS number in the address), made only from a record the user has just been shown.
/// </summary>
public sealed record LetterLink(string NhsNumber, string OdsCode, string DocumentReferenceId, string PatientId, string UserId, string? BreakGlassReason)
{
    private const string Purpose = "WirralCareRecord.Record.Letter.v1";

    public string Seal(IDataProtectionProvider protection) =>
        protection.CreateProtector(Purpose).ToTimeLimitedDataProtector().Protect(JsonSerializer.Serialize(this), TimeSpan.FromMinutes(30));

    public static LetterLink? Open(IDataProtectionProvider protection, string? value)
    {
        try
        {
            return string.IsNullOrEmpty(value) ? null : JsonSerializer.Deserialize<LetterLink>(protection.CreateProtector(Purpose).ToTimeLimitedDataProtector().Unprotect(value));
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or JsonException or FormatException)
        {
            return null;
        }
    }
}

/// <summary>
/// Opens a letter for the record page (cookie-signed-in pages cannot use the bearer-token source route). The letter is
/// read again from its source, and its content served only when the DocumentReference is still about the patient
/// matched at that source, is not labelled restricted, and the caller's organisation still has an agreement with the
/// source; the content is the DocumentReference's own attachment data, or the <c>Binary</c> its attachment points at on
/// that source. Audited like a single-source read before a byte is served. Whether the DocumentReference may be shown is
/// decided by the shared source answer rules (<see cref="SourceAnswers.DisclosurePolicy"/>), as on both routes.
/// </summary>
internal sealed class LetterReader(
    FhirSourceClient sources,
    FederatedRecordService federation,
    IOrganisationRegistry registry,
    AuditTrail audit,
    PublicBaseAddress publicBase,
    Microsoft.Extensions.Options.IOptions<FederationOptions> options)
{
    private readonly SourceAnswers.RestrictedLabels _labels = new(options.Value.RestrictedLabels);

    /// <summary>What may be shown in the browser as it is; anything else is offered as a download.</summary>
    private static readonly Dictionary<string, string> Inline = new(StringComparer.OrdinalIgnoreCase)
    {
        ["text/plain"] = "text/plain; charset=utf-8",
        ["application/pdf"] = "application/pdf",
    };

    public async Task<IResult> ReadAsync(HttpContext context, CallerIdentity caller, LetterLink link)
    {
        var correlationId = context.CorrelationId();
        var request = $"GET /sources/{link.OdsCode}/fhir/DocumentReference/{link.DocumentReferenceId} (letter on the record page)";
        async Task<IResult> Refuse(int status, string outcome, string message, int calls)
        {
            await audit.RecordAsync(Access(caller, correlationId, link, request, status, message, outcome, 0, calls), context.RequestAborted);
            return Results.Text(message, "text/plain; charset=utf-8", statusCode: status);
        }

        if (link.UserId != caller.UserId)
        {
            return await Refuse(StatusCodes.Status403Forbidden, "refused", "This letter link was made for another user.", 0);
        }

        var grant = federation.SelectSources(caller).FirstOrDefault(g => string.Equals(g.Source.OdsCode, link.OdsCode, StringComparison.OrdinalIgnoreCase));
        if (grant is null || registry.Current.Find(link.OdsCode) is not { } organisation)
        {
            return await Refuse(StatusCodes.Status403Forbidden, "refused", $"{link.OdsCode} no longer shares records with {caller.OdsCode}.", 0);
        }

        if (federation.ObjectionFor(link.NhsNumber) is not null && link.BreakGlassReason is null)
        {
            return await Refuse(StatusCodes.Status403Forbidden, "refused", "This patient has opted out of the Wirral Care Record.", 0);
        }

        var sourceBase = organisation.FhirBaseUrl.ToString().TrimEnd('/');
        var calls = 0;
        try
        {
            calls++;
            var document = await sources.ReadAsync<DocumentReference>(link.OdsCode, $"{sourceBase}/DocumentReference/{Uri.EscapeDataString(link.DocumentReferenceId)}", correlationId, context.RequestAborted);
            // The same rules as every other answer (SourceAnswers): tied to this patient, nothing it contains restricted
            // or about anyone else, and within the agreement.
            var scope = new SourceAnswers.PatientScope(
                link.NhsNumber,
                new HashSet<string>(StringComparer.Ordinal) { link.PatientId },
                new SourceAnswers.SourceLocation(organisation.FhirBaseUrl, GatewayAddresses.SourceBase(publicBase.Value, link.OdsCode)),
                grant.Permits,
                _labels);
            if (SourceAnswers.DisclosurePolicy.Decide(SourceAnswers.ResourceFacts.Scan(FhirJson.SerializeToUtf8(document), _labels), scope) != SourceAnswers.Withholding.None)
            {
                return await Refuse(StatusCodes.Status404NotFound, "withheld", "This letter is not available: it is no longer recorded as this patient's, or it is restricted.", calls);
            }

            var attachment = document.Content.Select(c => c.Attachment).FirstOrDefault(a => a?.Data is not null || a?.Url is not null);
            byte[]? content = attachment?.Data;
            var contentType = attachment?.ContentType;
            if (content is null && attachment?.Url is { } url)
            {
                if (BinaryId(url, sourceBase) is not { } binaryId)
                {
                    return await Refuse(StatusCodes.Status404NotFound, "withheld", "This letter's content is held outside its source's FHIR server, so it cannot be opened here.", calls);
                }

                calls++;
                var binary = await sources.ReadAsync<Binary>(link.OdsCode, $"{sourceBase}/Binary/{binaryId}", correlationId, context.RequestAborted);
                content = binary.Data;
                contentType = binary.ContentType ?? contentType;
            }

            if (content is null)
            {
                return await Refuse(StatusCodes.Status404NotFound, "returned", "This letter has no content.", calls);
            }

            await audit.RecordAsync(Access(caller, correlationId, link, request, StatusCodes.Status200OK, null, "returned", 1, calls), context.RequestAborted);
            var baseType = contentType?.Split(';')[0].Trim() ?? "";
            context.Response.Headers.XContentTypeOptions = "nosniff";
            context.Response.Headers.CacheControl = "no-store";
            if (Inline.TryGetValue(baseType, out var shown))
            {
                context.Response.Headers.ContentDisposition = "inline";
                return Results.Bytes(content, shown);
            }

            return Results.File(content, "application/octet-stream", "letter");
        }
        catch (Exception ex) when (ex is SourceFailureException or SourceAnswers.SourceBuffersFullException)
        {
            var outcome = ex is SourceFailureException failure ? SourceResult.Code(failure.Outcome) : "failed";
            return await Refuse(StatusCodes.Status502BadGateway, outcome, $"{organisation.Name} could not be read just now; try again shortly.", calls);
        }
    }

    /// <summary>The Binary's id when <paramref name="url"/> is a Binary on the source's own server (relative or absolute); else null.</summary>
    internal static string? BinaryId(string url, string sourceBase)
    {
        var path = url.StartsWith(sourceBase + "/", StringComparison.OrdinalIgnoreCase) ? url[(sourceBase.Length + 1)..] : url;
        var parts = path.Split('/');
        return parts.Length == 2 && parts[0] == "Binary" && parts[1].Length is > 0 and <= 64 && parts[1].All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.')
            ? parts[1]
            : null;
    }

    private static AccessAudit Access(CallerIdentity caller, string correlationId, LetterLink link, string request, int status, string? description, string outcome, int resources, int calls) =>
        AccessAudit.For(caller, AccessKind.SourceRead, correlationId, link.NhsNumber, request, status, description, [new SourceAuditEntry(link.OdsCode, outcome, resources, 0, calls)], link.BreakGlassReason);
}
