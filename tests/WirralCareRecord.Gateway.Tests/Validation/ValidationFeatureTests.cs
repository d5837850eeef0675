using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;
using WirralCareRecord.Gateway.Validation;

namespace WirralCareRecord.Gateway.Tests.Validation;

public sealed class ValidationFeatureTests : IDisposable
{
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);

    [Fact]
    public void Gateway_ProfilesFolderMissing_RefusesToStartSayingHowToFix()
    {
        // Arrange
        using var host = new GatewayHost(_issuer, [_gp], settings: new() { ["Validation:ProfilesPath"] = Path.Combine(Path.GetTempPath(), "no-such-profiles") });

        // Act
        var failure = Assert.Throws<OptionsValidationException>(() => host.CreateClient());

        // Assert
        Assert.Contains("no-such-profiles does not exist", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Validation:ProfilesPath", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readiness_ProfilesLoaded_IsHealthyNamingTheCount()
    {
        // Arrange
        using var host = new GatewayHost(_issuer, [_gp]);
        var health = host.Services.GetRequiredService<HealthCheckService>();

        // Act
        var report = await health.CheckHealthAsync(check => check.Name == "profiles");

        // Assert
        var entry = Assert.Single(report.Entries).Value;
        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal("13 profiles loaded", entry.Description);
    }

    [Fact]
    public void FhirValidator_FromTheGateway_SharesTheProcessWideProfiles()
    {
        // Arrange
        using var host = new GatewayHost(_issuer, [_gp]);
        var validator = host.Services.GetRequiredService<IFhirValidator>();
        var patient = FhirSource.NewPatient("p1", "9000000009");
        patient.BirthDate = null;

        // Act
        var outcome = validator.Validate(patient);

        // Assert
        Assert.Equal("Missing required member: 'birthDate'", Assert.Single(outcome.Errors()).Diagnostics);
        Assert.True(validator.HasProfile(Definitions.Wirral + "WCR-Patient"));
        Assert.Same(Definitions.Engine, host.Services.GetRequiredService<ProfileLibrary>().Validation);
    }

    public void Dispose()
    {
        _gp.Dispose();
        _issuer.Dispose();
    }
}
