using System.Net;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Federation;

public sealed class ObjectionAndBreakGlassTests : IDisposable
{
    private const string Objector = "9000000017";
    private const string Reason = "Unconscious in A&E, no history available";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);

    private GatewayHost Host() => new(_issuer, [_gp], registry => registry.Objections.Add(new()
    {
        NhsNumber = Objector, RecordedOn = new DateOnly(2026, 3, 5), RecordedBy = "Riverside Medical Centre reception",
    }));

    private static string RecordUrl(string nhs, string? breakGlass = null) =>
        $"/fhir/Patient/$wcr-getrecord?patientNHSNumber={nhs}" + (breakGlass is null ? "" : "&breakGlassReason=" + Uri.EscapeDataString(breakGlass));

    [Fact]
    public async Task GetRecord_PatientHasObjected_Returns403OptedOutAndNoSourceIsAsked()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Objector), ClinicalData.Condition("c1", "gp-1"));
        using var host = Host();

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync(RecordUrl(Objector));

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains("opted out", outcome.Text(), StringComparison.Ordinal);
        Assert.Contains("5 March 2026", outcome.Text(), StringComparison.Ordinal);
        Assert.Contains("break-glass", outcome.Text(), StringComparison.Ordinal);
        Assert.Empty(_gp.RequestedPaths);
        var audit = Assert.Single(host.AuditEvents());
        Assert.Equal(AuditEvent.AuditEventOutcome.N4, audit.Outcome);
        Assert.Contains(audit.Entity, e => e.What?.Identifier?.Value == Objector);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task GetRecord_ObjectionWithBreakGlassReason_ReturnsRecordAuditedAsBreakGlass(bool asHeader)
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Objector), ClinicalData.Condition("c1", "gp-1"));
        using var host = Host();
        var client = host.CreateClient(_issuer.CreateToken(userId: "dr-ae-1"));
        if (asHeader)
        {
            client.DefaultRequestHeaders.Add("X-Break-Glass-Reason", Reason);
        }

        var response = await client.GetAsync(RecordUrl(Objector, asHeader ? null : Reason));

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "c1" });
        Assert.Contains(bundle.SourceOutcomes()!.Issue, i => i.Diagnostics.Contains("opened by break-glass", StringComparison.Ordinal));
        var audit = Assert.Single(host.AuditEvents());
        Assert.Equal("BTG", audit.PurposeOfEvent.Single().Coding.Single().Code);
        Assert.Contains(audit.Entity.SelectMany(e => e.Detail), d => d.Type == "break-glass-reason" && ((FhirString)d.Value).Value == Reason);
    }

    [Fact]
    public async Task GetRecord_BreakGlassReasonTooShort_Returns400()
    {
        using var host = Host();

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync(RecordUrl(Objector, "urgent"));

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("at least 10 characters", outcome.Text(), StringComparison.Ordinal);
        Assert.Empty(_gp.RequestedPaths);
    }

    [Fact]
    public async Task BreakGlassList_Auditor_SeesEveryBreakGlassAccessAndNothingElse()
    {
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Objector), ClinicalData.Condition("c1", "gp-1"));
        _gp.WithPatient(FhirSource.NewPatient("gp-2", "9000000009"));
        using var host = Host();
        var clinician = host.CreateClient(_issuer.CreateToken());
        await clinician.GetAsync(RecordUrl("9000000009"));
        await clinician.GetAsync(RecordUrl(Objector));
        await clinician.GetAsync(RecordUrl(Objector, Reason));

        var response = await host.CreateClient(_issuer.CreateToken(role: "Auditor")).GetAsync("/audit/break-glass");

        var bundle = await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        var entry = Assert.Single(bundle.Entry);
        Assert.Contains(Assert.IsType<AuditEvent>(entry.Resource).Entity, e => e.What?.Identifier?.Value == Objector);
    }

    [Fact]
    public async Task BreakGlassList_Clinician_Returns403()
    {
        using var host = Host();

        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync("/audit/break-glass");

        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains("Auditor role", outcome.Text(), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _gp.Dispose();
        _issuer.Dispose();
    }
}
