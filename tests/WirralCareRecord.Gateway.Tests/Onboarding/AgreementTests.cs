using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Onboarding;

/// <summary>Agreements in a running gateway: expiry and revocation stop sharing at once; signed documents are kept whole and once.</summary>
public sealed class AgreementTests : IDisposable
{
    private const string Nhs = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);

    public AgreementTests() => _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Encounter("e1", "pas-1"));

    /// <summary>The agreement recorded but its signed document not yet uploaded.</summary>
    private static void Unsigned(RegistryDocument registry) => registry.Agreements[0].Document = null;

    private HttpClient Admin(GatewayHost host) => host.CreateClient(_issuer.CreateToken(role: "OnboardingAdmin", ods: "X26"));

    private async Task<HttpStatusCode> ReadRecordAsync(GatewayHost host)
    {
        using var response = await host.CreateClient(_issuer.CreateToken()).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");
        return response.StatusCode;
    }

    [Fact]
    public async Task An_agreement_that_expires_stops_sharing_in_a_running_gateway_without_a_restart()
    {
        var clock = new ShiftedTimeProvider();
        var lastDay = UkDate.Today(TimeProvider.System);
        using var host = new GatewayHost(_issuer, [_acute], editRegistry: r => r.Agreements[0].Expires = lastDay,
            services: s => s.AddSingleton<TimeProvider>(clock));
        Assert.Equal(HttpStatusCode.OK, await ReadRecordAsync(host));

        clock.Offset = TimeSpan.FromDays(2);

        Assert.Equal(HttpStatusCode.Forbidden, await ReadRecordAsync(host));
    }

    [Fact]
    public async Task Revoking_an_agreement_stops_sharing_on_the_next_request()
    {
        using var host = new GatewayHost(_issuer, [_acute]);
        Assert.Equal(HttpStatusCode.OK, await ReadRecordAsync(host));

        var revoked = await Admin(host).PostJsonAsync("/admin/agreements/WCR-DSA-TEST/revoke", new RevokeRequest("Practice merger; new agreement to follow"))
            .ExpectAsync<SharingAgreement>(HttpStatusCode.OK);

        Assert.True(revoked.Revoked);
        Assert.Equal(HttpStatusCode.Forbidden, await ReadRecordAsync(host));
        var history = host.Services.GetRequiredService<IOrganisationRegistry>().Current.History;
        Assert.Contains(history, h => h.Subject == "Agreement/WCR-DSA-TEST" && h.Action == "revoked" && h.Reason == "Practice merger; new agreement to follow");
    }

    [Fact]
    public async Task The_signed_document_is_stored_with_its_SHA256_and_size_and_downloads_unchanged()
    {
        using var host = new GatewayHost(_issuer, [_acute], editRegistry: Unsigned);
        var admin = Admin(host);
        var pdf = AdminApi.Pdf();

        var document = await admin.UploadAsync("RBL", "WCR-DSA-TEST", pdf).ExpectAsync<AgreementDocument>(HttpStatusCode.Created);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(pdf)), document.Sha256);
        Assert.Equal(pdf.Length, document.Size);
        using var download = await admin.GetAsync("/admin/organisations/RBL/agreements/WCR-DSA-TEST/document");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("application/pdf", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal(pdf, await download.Content.ReadAsByteArrayAsync());
        Assert.Equal($"sha-256=:{Convert.ToBase64String(SHA256.HashData(pdf))}:", download.Headers.GetValues("Repr-Digest").Single());
    }

    [Fact]
    public async Task A_document_is_never_overwritten_and_a_new_version_gets_a_new_blob()
    {
        using var host = new GatewayHost(_issuer, [_acute], editRegistry: Unsigned);
        var admin = Admin(host);
        var v1 = AdminApi.Pdf("v1");
        var first = await admin.UploadAsync("RBL", "WCR-DSA-TEST", v1).ExpectAsync<AgreementDocument>(HttpStatusCode.Created);

        var again = await admin.UploadAsync("RBL", "WCR-DSA-TEST", AdminApi.Pdf("v1 altered")).RefusedAsync(HttpStatusCode.Conflict);
        Assert.Contains("documents are never replaced", again, StringComparison.Ordinal);

        var today = UkDate.Today(TimeProvider.System);
        await admin.PostJsonAsync("/admin/agreements", new AgreementRequest("WCR-DSA-TEST", "2", ["RBL", "N85001"], ["RBL", "N85001"], "IG lead", today, today, today.AddYears(2)))
            .ExpectAsync<SharingAgreement>(HttpStatusCode.Created);
        var second = await admin.UploadAsync("RBL", "WCR-DSA-TEST", AdminApi.Pdf("v2")).ExpectAsync<AgreementDocument>(HttpStatusCode.Created);

        Assert.NotEqual(first.BlobName, second.BlobName);
        Assert.StartsWith("WCR-DSA-TEST/v2/", second.BlobName, StringComparison.Ordinal);
        var stores = host.Services.GetRequiredService<WirralCareRecord.Gateway.Storage.IBlobStores>()[WirralCareRecord.Gateway.Storage.StorageContainer.Agreements];
        Assert.Equal(v1, (await stores.ReadAsync(first.BlobName, default))!.Content.ToArray());
    }

    [Theory]
    [InlineData("text/plain", false, HttpStatusCode.UnsupportedMediaType, "Send the signed agreement as application/pdf")]
    [InlineData("application/pdf", false, HttpStatusCode.UnsupportedMediaType, "is not a PDF")]
    [InlineData("application/pdf", true, HttpStatusCode.RequestEntityTooLarge, "larger than the")]
    public async Task A_document_of_the_wrong_type_or_too_large_is_refused(string contentType, bool tooLarge, HttpStatusCode expected, string message)
    {
        using var host = new GatewayHost(_issuer, [_acute], editRegistry: Unsigned, settings: new() { ["Registry:MaxDocumentBytes"] = "2048" });
        var body = tooLarge ? [.. AdminApi.Pdf(), .. new byte[4096]] : "Dear IG lead, please find attached"u8.ToArray();

        var detail = await Admin(host).UploadAsync("RBL", "WCR-DSA-TEST", body, contentType).RefusedAsync(expected);

        Assert.Contains(message, detail, StringComparison.Ordinal);
        Assert.Null(host.Services.GetRequiredService<IOrganisationRegistry>().Current.FindAgreement("WCR-DSA-TEST")!.Document);
    }

    [Fact]
    public async Task An_agreement_must_name_registered_parties_direct_care_and_known_categories()
    {
        using var host = new GatewayHost(_issuer, [_acute]);
        var today = UkDate.Today(TimeProvider.System);

        var detail = await Admin(host).PostJsonAsync("/admin/agreements", new AgreementRequest(
            "WCR DSA", "1", ["RBL", "Y99999"], [], "IG lead", today, today, today.AddDays(-1), Purposes: ["research"], DataCategories: ["Claim"]))
            .RefusedAsync(HttpStatusCode.BadRequest);

        Assert.Contains("id must be", detail, StringComparison.Ordinal);
        Assert.Contains("not registered: Y99999", detail, StringComparison.Ordinal);
        Assert.Contains("consumers must name at least one", detail, StringComparison.Ordinal);
        Assert.Contains("expires is before effectiveFrom", detail, StringComparison.Ordinal);
        Assert.Contains("direct care only", detail, StringComparison.Ordinal);
        Assert.Contains("dataCategories Claim", detail, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _acute.Dispose();
        _issuer.Dispose();
    }
}
