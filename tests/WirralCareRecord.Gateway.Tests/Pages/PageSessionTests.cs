using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;
using WirralCareRecord.Gateway.Tests.Onboarding;

namespace WirralCareRecord.Gateway.Tests.Pages;

/// <summary>
/// Scripted page sessions over HTTP (the development sign-in, cookies and antiforgery tokens as a browser sends them),
/// for issue 16's findings 6 and 7: the record page shares the record-read rate limit with the API and the source route,
/// and nothing a session does puts an NHS number, name or date of birth in the application log.
/// </summary>
public sealed partial class PageSessionTests : IDisposable
{
    private const string Nhs = "9000000009";
    private const string Family = "Featherstonehaugh";
    private const string Given = "Philippa";
    private const string BirthDate = "1958-03-14";
    private const string Clinician = "dev-clinician-n85001";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);

    public PageSessionTests() => _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs, family: Family, given: Given, birthDate: BirthDate), ClinicalData.Condition("c1", "pas-1"))
        .WithCapabilityStatement(Gateway.Federation.FederationOptions.DefaultRecordTypes);

    private GatewayHost Host(Dictionary<string, string?>? settings = null) => new(_issuer, [_acute], settings: settings, environment: "Development");

    private static HttpClient Browser(GatewayHost host) =>
        host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    private static async Task<string> TokenAsync(HttpClient browser, string path)
    {
        var html = await browser.GetStringAsync(path);
        return AntiforgeryField().Match(html).Groups[1].Value;
    }

    private static async Task SignInAsync(HttpClient browser, string userId)
    {
        var token = await TokenAsync(browser, "/signin");
        using var response = await browser.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["userId"] = userId, ["returnUrl"] = "/", ["__RequestVerificationToken"] = token,
        }));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }

    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient browser, string path, Dictionary<string, string> fields)
    {
        fields["__RequestVerificationToken"] = await TokenAsync(browser, path);
        return await browser.PostAsync(path, new FormUrlEncodedContent(fields));
    }

    [Fact]
    public async Task RecordPage_ReadsCountAgainstTheSameLimitAsTheApiAndSourceRoute()
    {
        using var host = Host(new() { ["RateLimits:PerUserPerMinute"] = "4" });
        var browser = Browser(host);
        await SignInAsync(browser, Clinician);
        var api = host.CreateClient(_issuer.CreateToken(userId: Clinician));

        using (var page1 = await PostFormAsync(browser, "/record", new() { ["NhsNumber"] = Nhs }))
        {
            Assert.Equal(HttpStatusCode.OK, page1.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/sources/RBL/fhir/Patient/pas-1")).StatusCode);
        using (var page2 = await PostFormAsync(browser, "/record", new() { ["NhsNumber"] = Nhs }))
        {
            Assert.Equal(HttpStatusCode.OK, page2.StatusCode);
        }

        using var page3 = await PostFormAsync(browser, "/record", new() { ["NhsNumber"] = Nhs });
        Assert.Equal(HttpStatusCode.TooManyRequests, page3.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await api.GetAsync("/sources/RBL/fhir/Patient/pas-1")).StatusCode);
        Assert.Contains(host.AuditEvents(), e => e.Entity.Any(x => x.Description == "POST /record") && e.Outcome == Hl7.Fhir.Model.AuditEvent.AuditEventOutcome.N4);
    }

    [Fact]
    public async Task ScriptedSession_EveryPageAndApi_LeavesNoNhsNumberNameOrBirthDateInTheApplicationLog()
    {
        using var host = Host();

        // A clinician: the record page, with and without break-glass, and the API and source route.
        var clinician = Browser(host);
        await SignInAsync(clinician, Clinician);
        (await PostFormAsync(clinician, "/record", new() { ["NhsNumber"] = Nhs })).Dispose();
        (await PostFormAsync(clinician, "/record", new() { ["NhsNumber"] = "9000000008" })).Dispose();
        var api = host.CreateClient(_issuer.CreateToken());
        (await api.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}&patientDOB={BirthDate}&patientFamilyName={Family}")).Dispose();
        (await api.GetAsync($"/sources/RBL/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{Nhs}")).Dispose();

        // An auditor: the search page (posted, so the number is in no address), signed out first as the finding did.
        var auditor = Browser(host);
        using (var signedOut = await auditor.GetAsync($"/auditing/search?patient={Nhs}"))
        {
            Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        }

        await SignInAsync(auditor, "dev-auditor");
        using (var search = await PostFormAsync(auditor, "/auditing/search", new() { ["Patient"] = Nhs }))
        {
            Assert.Equal(HttpStatusCode.OK, search.StatusCode);
            Assert.DoesNotContain(Nhs, search.RequestMessage!.RequestUri!.ToString(), StringComparison.Ordinal);
            Assert.Contains("data-testid=\"audit-results\"", await search.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        (await auditor.GetAsync("/auditing")).Dispose();
        (await auditor.GetAsync("/auditing/break-glass")).Dispose();
        var auditorApi = host.CreateClient(_issuer.CreateToken(role: "Auditor", ods: "X26"));
        (await auditorApi.GetAsync($"/audit/AuditEvent?patient={Nhs}")).Dispose();

        // An onboarding admin: a flow test of the designated test patient.
        var admin = host.CreateClient(_issuer.CreateToken(role: "OnboardingAdmin", ods: "X26"));
        await admin.PostJsonAsync("/admin/organisations/RBL/flow-tests", new FlowTestRequest(Nhs)).ExpectAsync<FlowTestReport>(HttpStatusCode.Created);

        Assert.NotEmpty(host.Logs.Lines);
        foreach (var secret in new[] { Nhs, "900 000 0009", Family, Given, BirthDate })
        {
            Assert.DoesNotContain(host.Logs.Lines, line => line.Contains(secret, StringComparison.OrdinalIgnoreCase));
        }

        // The audit log is where the patient is named: the auditor's search included.
        Assert.Contains(host.AuditEvents(), e => e.Entity.Any(x => x.Description?.StartsWith("POST /auditing/search", StringComparison.Ordinal) == true)
            && e.Entity.Any(x => x.What?.Identifier?.Value == Nhs));
    }

    public void Dispose()
    {
        _acute.Dispose();
        _issuer.Dispose();
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
