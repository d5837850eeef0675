using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Storage;

namespace WirralCareRecord.Gateway.Agreements;

/// <summary>A signed agreement (or a new version of one) as an admin records it.</summary>
public sealed record AgreementRequest(
    string Id,
    string Version,
    IReadOnlyList<string> Providers,
    IReadOnlyList<string> Consumers,
    string SignedBy,
    DateOnly SignedOn,
    DateOnly EffectiveFrom,
    DateOnly Expires,
    DateOnly? ReviewOn = null,
    IReadOnlyList<string>? Purposes = null,
    IReadOnlyList<string>? DataCategories = null);

/// <summary>Why an agreement is being revoked.</summary>
public sealed record RevokeRequest(string Reason);

/// <summary>
/// The onboarding admin API for data sharing agreements: record, revise and revoke them, and keep each version's
/// signed PDF (stored once, with its SHA-256, never overwritten). Revoking takes effect on the next request.
/// </summary>
internal static partial class AgreementAdminEndpoints
{
    private const string PdfContentType = "application/pdf";

    public static RouteGroupBuilder MapAgreementAdmin(this RouteGroupBuilder admin)
    {
        var agreements = admin.MapGroup("/agreements").WithTags("Agreements");
        agreements.MapGet("/", (IOrganisationRegistry registry) => TypedResults.Ok(registry.Current.Agreements)).WithSummary("Every agreement, current version");
        agreements.MapGet("/{id}", Get).WithSummary("One agreement");
        agreements.MapPost("/", RecordAsync).WithSummary("Record a signed agreement, or a new version of one");
        agreements.MapPost("/{id}/revoke", RevokeAsync).WithSummary("Revoke an agreement: sharing under it stops at once");

        // The signed PDF's body may be larger than any other request's (Registry:MaxDocumentBytes); it is still read under that bound.
        var documentLimit = new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(
            ((IEndpointRouteBuilder)admin).ServiceProvider.GetRequiredService<IOptions<RegistryOptions>>().Value.MaxDocumentBytes);
        var documents = admin.MapGroup("/organisations/{odsCode}/agreements/{id}/document").WithTags("Agreements");
        // No Accepts metadata: routing would answer a wrong content type with a bare 415; this says what to send.
        documents.MapPut("/", UploadDocumentAsync).WithMetadata(documentLimit)
            .WithSummary("Upload the signed PDF (body: application/pdf) of the agreement's current version, once; the same document serves every party");
        documents.MapGet("/", DownloadDocumentAsync).WithSummary("Download the signed PDF");
        return admin;
    }

    private static Ok<SharingAgreement> Get(string id, IOrganisationRegistry registry) =>
        TypedResults.Ok(registry.Current.FindAgreement(id) ?? throw RegistryRefusal.NotFound($"Agreement {id}"));

    private static async Task<Created<SharingAgreement>> RecordAsync(AgreementRequest request, AdminActions actions, IOptions<FederationOptions> federation, HttpContext context)
    {
        var updated = await actions.ChangeAsync(context, $"Agreement/{request.Id}", $"record agreement v{request.Version}", registry =>
        {
            var agreement = Build(request, registry, federation.Value.RecordTypes);
            if (registry.FindAgreement(agreement.Id) is { } existing && existing.Version == agreement.Version)
            {
                throw RegistryRefusal.Conflict([$"{existing.Id} v{existing.Version} is already recorded; a change to a signed agreement is a new version."]);
            }

            return registry.With(agreement, new RegistryChange($"Agreement/{agreement.Id}", $"version {agreement.Version} recorded", actions.Now, actions.Actor(context), $"Signed by {agreement.SignedBy} on {agreement.SignedOn:yyyy-MM-dd}"));
        });
        var recorded = updated.FindAgreement(request.Id)!;
        return TypedResults.Created($"/admin/agreements/{recorded.Id}", recorded);
    }

    private static async Task<Ok<SharingAgreement>> RevokeAsync(string id, RevokeRequest request, AdminActions actions, HttpContext context)
    {
        var reason = request.Reason?.Trim() ?? "";
        var updated = await actions.ChangeAsync(context, $"Agreement/{id}", "revoke agreement", registry =>
        {
            var agreement = registry.FindAgreement(id) ?? throw RegistryRefusal.NotFound($"Agreement {id}");
            if (reason.Length is < 5 or > 1000)
            {
                throw RegistryRefusal.Invalid(["Give a reason for revoking (5 to 1000 characters); it is kept in the history."]);
            }

            if (agreement.Revoked)
            {
                throw RegistryRefusal.Conflict([$"{agreement.Id} is already revoked."]);
            }

            return registry.With(agreement with { Revoked = true }, new RegistryChange($"Agreement/{agreement.Id}", "revoked", actions.Now, actions.Actor(context), reason));
        });
        return TypedResults.Ok(updated.FindAgreement(id)!);
    }

    private static async Task<Results<Created<AgreementDocument>, Ok<AgreementDocument>>> UploadDocumentAsync(
        string odsCode, string id, IOrganisationRegistry registry, IBlobStores stores, AdminActions actions, IOptions<RegistryOptions> options, HttpContext context)
    {
        var agreement = PartyAgreement(registry.Current, odsCode, id);
        if (!string.Equals(context.Request.ContentType?.Split(';')[0].Trim(), PdfContentType, StringComparison.OrdinalIgnoreCase))
        {
            throw new RegistryRefusal(StatusCodes.Status415UnsupportedMediaType, $"Send the signed agreement as {PdfContentType}.");
        }

        var limit = options.Value.MaxDocumentBytes;
        var bytes = await ReadLimitedAsync(context, limit);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (agreement.Document is { } existing)
        {
            // One agreement, one signed document, whichever party's page it is uploaded from: the same bytes again are
            // the same document (200); different bytes would replace what was signed, which never happens.
            return existing.Sha256 == sha256
                ? TypedResults.Ok(existing)
                : throw RegistryRefusal.Conflict([$"{agreement.Id} v{agreement.Version} already has its signed document (SHA-256 {existing.Sha256}); documents are never replaced. Record a new version for a new document."]);
        }

        var (problem, pages) = SignedDocument.Check(bytes);
        if (problem is not null)
        {
            await actions.RecordAsync(context, $"Agreement/{agreement.Id}", $"upload signed document for v{agreement.Version}: refused: {problem}", StatusCodes.Status415UnsupportedMediaType);
            throw new RegistryRefusal(StatusCodes.Status415UnsupportedMediaType, problem);
        }

        var blobName = $"{agreement.Id}/v{agreement.Version}/{sha256}.pdf";
        try
        {
            await stores[StorageContainer.Agreements].WriteAsync(blobName, BinaryData.FromBytes(bytes), expectedETag: null, PdfContentType, context.RequestAborted);
        }
        catch (StorageConflictException)
        {
            // Named by its hash: an earlier upload that was stored but not recorded left exactly these bytes.
        }

        var document = new AgreementDocument(blobName, sha256, bytes.Length, PdfContentType, actions.Now, actions.Actor(context));
        var updated = await actions.ChangeAsync(context, $"Agreement/{agreement.Id}", $"upload signed document for v{agreement.Version}", latest =>
        {
            var current = PartyAgreement(latest, odsCode, id);
            if (current.Version != agreement.Version || current.Document is not null)
            {
                throw RegistryRefusal.Conflict([$"{current.Id} changed while the document was uploading (now v{current.Version}); check it and upload again."]);
            }

            return latest.With(current with { Document = document }, new RegistryChange($"Agreement/{current.Id}", $"signed document uploaded for v{current.Version}", actions.Now, actions.Actor(context), $"SHA-256 {sha256}, {bytes.Length} bytes, {pages} page(s); serves {string.Join(", ", current.Providers.Union(current.Consumers, StringComparer.OrdinalIgnoreCase))}"));
        }, describe: _ => $"SHA-256 {sha256}, {bytes.Length} bytes, {pages} page(s)");
        return TypedResults.Created($"/admin/organisations/{odsCode.ToUpperInvariant()}/agreements/{agreement.Id}/document", updated.FindAgreement(id)!.Document!);
    }

    internal static async Task<FileStreamHttpResult> DownloadDocumentAsync(string odsCode, string id, IOrganisationRegistry registry, IBlobStores stores, HttpContext context)
    {
        var agreement = PartyAgreement(registry.Current, odsCode, id);
        var document = agreement.Document ?? throw RegistryRefusal.NotFound($"The signed document of {agreement.Id} v{agreement.Version}");
        var stream = await stores[StorageContainer.Agreements].OpenReadAsync(document.BlobName, context.RequestAborted)
            ?? throw new RegistryRefusal(StatusCodes.Status503ServiceUnavailable, $"The signed document of {agreement.Id} is recorded but cannot be read from storage.");
        context.Response.Headers["Repr-Digest"] = $"sha-256=:{Convert.ToBase64String(Convert.FromHexString(document.Sha256))}:";
        return TypedResults.File(stream, document.ContentType, $"{agreement.Id}-v{agreement.Version}.pdf");
    }

    /// <summary>The agreement, which must name the organisation as a party.</summary>
    private static SharingAgreement PartyAgreement(RegistrySnapshot registry, string odsCode, string id)
    {
        var organisation = registry.Find(odsCode) ?? throw RegistryRefusal.NotFound($"Organisation {odsCode}");
        return registry.AgreementsOf(organisation.OdsCode).FirstOrDefault(a => string.Equals(a.Id, id, StringComparison.OrdinalIgnoreCase))
            ?? throw RegistryRefusal.NotFound($"Agreement {id} naming {organisation.OdsCode}");
    }

    /// <summary>Reads the body, refusing (413) as soon as it passes the limit rather than buffering whatever is sent.</summary>
    private static async Task<byte[]> ReadLimitedAsync(HttpContext context, long limit)
    {
        if (context.Request.ContentLength > limit)
        {
            throw TooLarge(limit);
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw TooLarge(limit);
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static RegistryRefusal TooLarge(long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, $"The document is larger than the {limit / 1024.0 / 1024.0:0.#} MiB allowed (Registry:MaxDocumentBytes).");

    private static SharingAgreement Build(AgreementRequest request, RegistrySnapshot registry, IReadOnlyList<string> recordTypes)
    {
        var problems = new List<string>();
        if (request.Id is null || !IdPattern().IsMatch(request.Id))
        {
            problems.Add("id must be 1 to 64 letters, digits, '.', '_' or '-'.");
        }

        if (request.Version is null || !IdPattern().IsMatch(request.Version))
        {
            problems.Add("version must be 1 to 64 letters, digits, '.', '_' or '-'.");
        }

        foreach (var (role, parties) in new[] { ("providers", request.Providers), ("consumers", request.Consumers) })
        {
            if (parties is null || parties.Count == 0)
            {
                problems.Add($"{role} must name at least one organisation.");
                continue;
            }

            var unknown = parties.Where(p => registry.Find(p) is null).ToList();
            if (unknown.Count > 0)
            {
                problems.Add($"{role} names organisations that are not registered: {string.Join(", ", unknown)}.");
            }
        }

        if (string.IsNullOrWhiteSpace(request.SignedBy))
        {
            problems.Add("signedBy is required.");
        }

        if (request.Expires < request.EffectiveFrom)
        {
            problems.Add("expires is before effectiveFrom.");
        }

        var purposes = request.Purposes is { Count: > 0 } given ? given : [SharingAgreement.DirectCare];
        if (purposes.Any(p => p != SharingAgreement.DirectCare))
        {
            problems.Add($"the Wirral Care Record shares for direct care only; purposes must be [\"{SharingAgreement.DirectCare}\"].");
        }

        var categories = request.DataCategories ?? [];
        var unknownCategories = categories.Except(recordTypes, StringComparer.Ordinal).ToList();
        if (unknownCategories.Count > 0)
        {
            problems.Add($"dataCategories {string.Join(", ", unknownCategories)} are not record types the gateway federates ({string.Join(", ", recordTypes)}).");
        }

        if (problems.Count > 0)
        {
            throw RegistryRefusal.Invalid(problems);
        }

        return new SharingAgreement(
            request.Id!, request.Version!, [.. request.Providers.Select(p => p.ToUpperInvariant())], [.. request.Consumers.Select(c => c.ToUpperInvariant())],
            request.SignedBy.Trim(), request.SignedOn, request.EffectiveFrom, request.Expires, Revoked: false, [.. categories])
        {
            Purposes = [.. purposes],
            ReviewOn = request.ReviewOn,
        };
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();
}
