using System.Net;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Audit;

public sealed class PatientDataInLogsTests : IDisposable
{
    private const string Nhs = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);

    [Fact]
    public async Task Reads_OfEveryKind_WriteNoNhsNumberOrNameToApplicationLogs()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs, family: "Featherstonehaugh"), ClinicalData.Condition("c1", "gp-1"));
        _acute.AnswerEverything(HttpStatusCode.InternalServerError, "{\"resourceType\":\"OperationOutcome\"}", FhirJson.ContentType);
        using var host = new GatewayHost(_issuer, [_gp, _acute]);
        var client = host.CreateClient(_issuer.CreateToken());

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}")).StatusCode);
        await client.GetAsync($"/sources/N85001/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{Nhs}");
        await client.GetAsync($"/sources/RBL/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{Nhs}");
        await host.CreateClient(token: null).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");

        Assert.NotEmpty(host.Logs.Lines);
        Assert.Contains(host.Logs.Lines, line => line.Contains("Source RBL failed", StringComparison.Ordinal));
        Assert.DoesNotContain(host.Logs.Lines, line => line.Contains(Nhs, StringComparison.Ordinal) || line.Contains("Featherstonehaugh", StringComparison.Ordinal));
        // The audit log is the one place the NHS number is written.
        Assert.Contains(host.AuditEvents(), e => e.Entity.Any(x => x.What?.Identifier?.Value == Nhs));
    }

    public void Dispose()
    {
        _gp.Dispose();
        _acute.Dispose();
        _issuer.Dispose();
    }
}
