using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Hosting;

/// <summary>
/// Issue 16, findings 5, 8 and 9: every input is bounded whatever its framing, nothing unbounded is echoed, tokens that
/// cannot be read are 401 in every environment, pages and APIs carry browser protections, and the CSV is safe.
/// </summary>
public sealed class InputBoundsTests : IDisposable
{
    private const string Nhs = "9000000009";
    private const string Objector = "9000000017";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);

    public InputBoundsTests()
    {
        _acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Encounter("e1", "pas-1"));
        _acute.WithPatient(FhirSource.NewPatient("pas-2", Objector), ClinicalData.Encounter("e2", "pas-2"));
    }

    private GatewayHost Host(string environment = "Testing") => new(_issuer, [_acute],
        editRegistry: r => r.Objections.Add(new() { NhsNumber = Objector, RecordedOn = new DateOnly(2026, 3, 5), RecordedBy = "reception" }), environment: environment);

    /// <summary>A body with no Content-Length, sent in chunks, as the finding's 20 MB reason was.</summary>
    private sealed class ChunkedContent(int bytes, string prefix) : HttpContent
    {
        protected override async System.Threading.Tasks.Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(prefix));
            var chunk = Encoding.ASCII.GetBytes(new string('x', 8192));
            for (var sent = 0; sent < bytes; sent += chunk.Length)
            {
                await stream.WriteAsync(chunk);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }

    [Fact]
    public async Task GetRecordPost_ChunkedBodyOverTheLimit_Is413AndNothingIsStoredOrEchoed()
    {
        using var host = Host();
        var content = new ChunkedContent(5 * 1024 * 1024, """{"resourceType":"Parameters","parameter":[{"name":"breakGlassReason","valueString":" """);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/fhir+json");
        var before = host.AuditEvents().Count;

        using var response = await host.CreateClient(_issuer.CreateToken()).PostAsync("/fhir/Patient/$wcr-getrecord", content);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.True(body.Length < 2000, $"answer of {body.Length} characters");
        Assert.True(host.AuditEvents().Skip(before).All(e => e.Entity.SelectMany(x => x.Detail).All(d => d.Value.ToString()!.Length < 1000)));
    }

    [Fact]
    public async Task BreakGlass_ReasonOver500Characters_IsRefusedWithoutEchoOrAudit()
    {
        using var host = Host();
        var reason = "Unconscious in A&E " + new string('z', 600);
        var client = host.CreateClient(_issuer.CreateToken());

        using var query = await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Objector}&breakGlassReason={Uri.EscapeDataString(reason)}");
        using var header = new HttpRequestMessage(HttpMethod.Get, $"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Objector}");
        header.Headers.Add("X-Break-Glass-Reason", reason);
        using var viaHeader = await client.SendAsync(header);

        foreach (var response in new[] { query, viaHeader })
        {
            var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.BadRequest);
            Assert.Contains("at most 500 characters", outcome.Text(), StringComparison.Ordinal);
            Assert.DoesNotContain("zzzzzzzzzz", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.DoesNotContain(host.AuditEvents(), e => e.Entity.SelectMany(x => x.Detail).Any(d => d.Value.ToString()!.Contains("zzzzzzzzzz", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task BreakGlass_Accepted_ReasonIsNotInTheBundlesSelfLink()
    {
        using var host = Host();
        const string reason = "Unconscious in A&E, no history available";

        var bundle = await FhirAssert.ReadAsync<Bundle>(
            await host.CreateClient(_issuer.CreateToken()).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Objector}&breakGlassReason={Uri.EscapeDataString(reason)}"), HttpStatusCode.OK);

        var self = bundle.Link.Single(l => l.Relation == "self").Url!;
        Assert.DoesNotContain("breakGlassReason", self, StringComparison.Ordinal);
        Assert.DoesNotContain("Unconscious", Uri.UnescapeDataString(self), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Headers_ValueOverTheLimit_Is431()
    {
        using var host = Host();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/fhir/metadata");
        request.Headers.TryAddWithoutValidation("X-Anything", new string('a', 20_000));

        using var response = await host.CreateClient(token: null).SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
        Assert.DoesNotContain("aaaaaaaaaa", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Development")]
    [InlineData("Testing")]
    public async Task BearerToken_Malformed_Is401InEveryEnvironment(string environment)
    {
        using var host = Host(environment);

        foreach (var path in new[] { $"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}", "/admin/organisations", "/audit/break-glass", "/sources/RBL/fhir/Patient/pas-1" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer abc.def.ghi");
            using var response = await host.CreateClient(token: null).SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{environment} {path}: {(int)response.StatusCode}");
        }
    }

    [Theory]
    [InlineData("Development", false)]
    [InlineData("Testing", true)]
    public async Task SecurityHeaders_PagesAndApis_CarryCspFramingNosniffReferrerAndHstsOutsideDevelopment(string environment, bool hsts)
    {
        using var host = Host(environment);
        var client = host.CreateClient(token: null);

        foreach (var path in new[] { "/signin", "/fhir/metadata", "/record" })
        {
            using var response = await client.GetAsync(path);
            var csp = response.Headers.GetValues("Content-Security-Policy").Single();
            Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
            Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
            Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
            Assert.Equal(hsts, response.Headers.Contains("Strict-Transport-Security"));
        }

        if (environment == "Development")
        {
            Assert.DoesNotContain("<script>", await client.GetStringAsync("/signin"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task SignIn_OdsClaimNotAnOdsCode_CountsAsNoOrganisationAndNeverReachesTheAudit()
    {
        using var host = Host();
        const string formula = "=HYPERLINK(\"http://evil.example\",\"x\")";

        using var response = await host.CreateClient(_issuer.CreateToken(ods: formula)).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain(host.AuditEvents(), e => e.Agent.Any(a => a.Who?.Identifier?.Value?.Contains("HYPERLINK", StringComparison.Ordinal) == true));
    }

    [Theory]
    [InlineData("N85001", "N85001")]
    [InlineData("=HYPERLINK(\"http://evil\")", "\"'=HYPERLINK(\"\"http://evil\"\")\"")]
    [InlineData("+1", "'+1")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("-2", "'-2")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("line\nbreak", "\"line\nbreak\"")]
    public void Csv_Field_QuotedPerRfc4180AndFormulaNeutralised(string value, string expected) =>
        Assert.Equal(expected, StoryOnceOutput.CsvField(value));

    public void Dispose()
    {
        _acute.Dispose();
        _issuer.Dispose();
    }
}
