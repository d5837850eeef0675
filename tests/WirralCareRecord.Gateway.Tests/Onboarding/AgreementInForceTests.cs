using System.Net;
using System.Net.Http.Json;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Onboarding;

/// <summary>Issue 16, finding 2: an agreement shares only once its signed document is held and its consumer has signed in an open phase; one document serves every party.</summary>
public sealed class AgreementInForceTests : IDisposable
{
    private const string Nhs = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);

    public AgreementInForceTests() => _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Encounter("e1", "pas-1"));

    private HttpClient Admin(GatewayHost host) => host.CreateClient(_issuer.CreateToken(role: "OnboardingAdmin", ods: "X26"));

    private async Task<(HttpStatusCode Status, string Text)> ReadAsync(GatewayHost host, string ods = "N85001")
    {
        using var response = await host.CreateClient(_issuer.CreateToken(ods: ods)).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Read_AgreementWithoutSignedDocument_IsRefusedUntilTheDocumentIsUploaded()
    {
        using var host = new GatewayHost(_issuer, [_acute], editRegistry: r => r.Agreements[0].Document = null);
        Assert.Equal(HttpStatusCode.Forbidden, (await ReadAsync(host)).Status);

        await Admin(host).UploadAsync("RBL", "WCR-DSA-TEST", AdminApi.Pdf()).ExpectAsync<AgreementDocument>(HttpStatusCode.Created);

        Assert.Equal(HttpStatusCode.OK, (await ReadAsync(host)).Status);
    }

    [Fact]
    public async Task Read_ConsumerOnlyRegistered_IsRefused()
    {
        using var host = new GatewayHost(_issuer, [_acute], editRegistry: r => r.Organisations.Single(o => o.OdsCode == "N85001").State = LifecycleState.Registered);

        var (status, text) = await ReadAsync(host);

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("has not yet signed its data sharing agreement", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_ConsumerSignedInAHeldPhase_IsRefusedUntilThePhaseOpens()
    {
        using var host = new GatewayHost(_issuer, [_acute], editRegistry: r =>
        {
            r.Phases = [new() { Number = 1, Name = "Hospital and pilot practices" }, new() { Number = 3, Name = "Social care", Status = PhaseStatus.Held }];
            r.Organisations.Single(o => o.OdsCode == "N85001").Phase = 3;
        });

        var (status, text) = await ReadAsync(host);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("which is held", text, StringComparison.Ordinal);

        await Admin(host).PutAsJsonAsync("/admin/phases/3", new PhaseRequest("Social care", PhaseStatus.Open, "Testing issues resolved"), AdminApi.Json).ExpectAsync<Phase>(HttpStatusCode.OK);

        Assert.Equal(HttpStatusCode.OK, (await ReadAsync(host)).Status);
    }

    [Fact]
    public async Task Upload_MultiPartyAgreement_OneDocumentServesEveryParty()
    {
        using var host = new GatewayHost(_issuer, [_acute], editRegistry: r => r.Agreements[0].Document = null);
        var admin = Admin(host);
        var pdf = AdminApi.Pdf("WCR-DSA-TEST signed by RBL and N85001", pages: 3);

        var first = await admin.UploadAsync("RBL", "WCR-DSA-TEST", pdf).ExpectAsync<AgreementDocument>(HttpStatusCode.Created);
        var second = await admin.UploadAsync("N85001", "WCR-DSA-TEST", pdf).ExpectAsync<AgreementDocument>(HttpStatusCode.OK);

        Assert.Equal(first, second);
        using var download = await admin.GetAsync("/admin/organisations/N85001/agreements/WCR-DSA-TEST/document");
        Assert.Equal(pdf, await download.Content.ReadAsByteArrayAsync());
        var other = await admin.UploadAsync("N85001", "WCR-DSA-TEST", AdminApi.Pdf("something else")).RefusedAsync(HttpStatusCode.Conflict);
        Assert.Contains("documents are never replaced", other, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upload_BodyStartingPdfButNotAPdf_IsRefusedByThePdfCheck()
    {
        using var host = new GatewayHost(_issuer, [_acute], editRegistry: r => r.Agreements[0].Document = null);

        var detail = await Admin(host).UploadAsync("RBL", "WCR-DSA-TEST", AdminApi.FakePdf()).RefusedAsync(HttpStatusCode.UnsupportedMediaType);

        Assert.Contains("not a readable PDF document", detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await ReadAsync(host)).Status);
    }

    public void Dispose()
    {
        _acute.Dispose();
        _issuer.Dispose();
    }
}
