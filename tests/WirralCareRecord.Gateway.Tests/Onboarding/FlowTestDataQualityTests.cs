using System.Net;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;
using WirralCareRecord.Gateway.Validation;

namespace WirralCareRecord.Gateway.Tests.Onboarding;

/// <summary>
/// Issue 17: a flow test is judged with the data-quality figures the sampler keeps. Its report carries the run's
/// figures, and the organisation's figures (endpoint and onboarding page) include what the flow test checked.
/// </summary>
public sealed class FlowTestDataQualityTests : IDisposable
{
    private const string TestPatient = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _practice = new("N85099", "Seacombe Surgery", OrganisationKind.GpPractice);

    private HttpClient Admin(GatewayHost host) => host.CreateClient(_issuer.CreateToken(role: "OnboardingAdmin", ods: "X26", userId: "admin-01"));

    private GatewayHost Host() => new(_issuer, [_practice]);

    [Fact]
    public async Task FlowTest_OneResourceNotConformant_ReportCarriesTheSamplersFiguresAndFails()
    {
        // Arrange: the test patient, a conforming condition and one without a code (WCR-Condition requires one).
        var uncoded = ClinicalData.Condition("c2", "gp-7");
        uncoded.Code = null;
        _practice.WithPatient(FhirSource.NewPatient("gp-7", TestPatient), ClinicalData.Condition("c1", "gp-7"), uncoded)
            .WithCapabilityStatement(FederationOptions.DefaultRecordTypes);
        using var host = Host();

        // Act
        var report = await Admin(host).PostJsonAsync("/admin/organisations/N85099/flow-tests", new FlowTestRequest(TestPatient)).ExpectAsync<FlowTestReport>(HttpStatusCode.Created);

        // Assert: the Patient and both conditions checked, as the sampler would count them, and the step fails on the same rule.
        Assert.False(report.Passed);
        var quality = Assert.IsType<DataQualityReport>(report.DataQuality);
        Assert.Equal(("N85099", 3L, 2L, 0.6667, 1.0), (quality.OdsCode, quality.ResourcesChecked, quality.ResourcesConformant, quality.ShareConformant, quality.SampleShare));
        Assert.Equal(1 + FederationOptions.DefaultRecordTypes.Count, quality.AnswersSampled);
        var problem = Assert.Single(quality.MostFrequentProblems, p => p.Severity == "error");
        Assert.Equal(("Condition", "Condition", "[1028] Missing required member: '…'", 1L), (problem.ResourceType, problem.Location, problem.Rule, problem.Count));
        var conditions = report.Steps.Single(s => s.Name == "Condition search");
        Assert.False(conditions.Passed);
        Assert.Contains(conditions.Findings, f => f.Contains("(Condition/c2) does not conform at Condition", StringComparison.Ordinal) && f.EndsWith(problem.Rule, StringComparison.Ordinal));
        Assert.EndsWith("Data quality: 2 of 3 resources conformant.", report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FlowTest_Run_OrganisationsFiguresCountIt()
    {
        // Arrange: no federated read has asked the source, so nothing is sampled yet.
        _practice.WithPatient(FhirSource.NewPatient("gp-7", TestPatient), ClinicalData.Condition("c1", "gp-7"))
            .WithCapabilityStatement(FederationOptions.DefaultRecordTypes);
        using var host = Host();
        var admin = Admin(host);
        var before = await admin.GetAsync("/admin/organisations/N85099/data-quality").ExpectAsync<DataQualityReport>(HttpStatusCode.OK);

        // Act
        var report = await admin.PostJsonAsync("/admin/organisations/N85099/flow-tests", new FlowTestRequest(TestPatient)).ExpectAsync<FlowTestReport>(HttpStatusCode.Created);
        var after = await admin.GetAsync("/admin/organisations/N85099/data-quality").ExpectAsync<DataQualityReport>(HttpStatusCode.OK);

        // Assert: one set of numbers; the organisation's figures are the flow test's.
        Assert.True(report.Passed, report.Summary);
        Assert.Equal(0, before.ResourcesChecked);
        Assert.Equal((2L, 2L, 1.0), (report.DataQuality!.ResourcesChecked, report.DataQuality.ResourcesConformant, report.DataQuality.ShareConformant));
        Assert.Equal(
            (report.DataQuality.AnswersSampled, report.DataQuality.ResourcesChecked, report.DataQuality.ResourcesConformant, report.DataQuality.ShareConformant),
            (after.AnswersSampled, after.ResourcesChecked, after.ResourcesConformant, after.ShareConformant));
        Assert.Equal(report.DataQuality.MostFrequentProblems, after.MostFrequentProblems);
        // Each set of figures reads the clock as it records, microseconds apart.
        Assert.InRange((after.LastCheckedAt!.Value - report.DataQuality.LastCheckedAt!.Value).Duration(), TimeSpan.Zero, TimeSpan.FromSeconds(1));
        Assert.Equal(0.05, after.SampleShare);
    }

    public void Dispose()
    {
        _practice.Dispose();
        _issuer.Dispose();
    }
}
