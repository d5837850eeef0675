using System.Net;
using System.Text;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Validation;

/// <summary>One gateway for all the $validate tests: they only read, and a host costs a second to start.</summary>
public sealed class ValidateEndpointHost : IDisposable
{
    public ValidateEndpointHost() => Host = new GatewayHost(Issuer, [Gp]);

    public TestIssuer Issuer { get; } = new();

    public FhirSource Gp { get; } = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);

    public GatewayHost Host { get; }

    public void Dispose()
    {
        Host.Dispose();
        Gp.Dispose();
        Issuer.Dispose();
    }
}

public sealed class ValidateEndpointTests(ValidateEndpointHost fixture) : IClassFixture<ValidateEndpointHost>
{
    private readonly TestIssuer _issuer = fixture.Issuer;
    private readonly GatewayHost _host = fixture.Host;

    [Fact]
    public async Task ValidateType_NonConformingPatient_Returns200WithTheIssueAndLocation()
    {
        // Arrange
        var patient = FhirSource.NewPatient("p1", "9000000009");
        patient.BirthDate = null;

        // Act
        var response = await Admin().PostAsync("/fhir/Patient/$validate", Body(patient));

        // Assert
        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.OK);
        var error = Assert.Single(outcome.Errors());
        Assert.Equal((OperationOutcome.IssueType.Invalid, "Patient", "Missing required member: 'birthDate'"), (error.Code!.Value, error.Expression.Single(), error.Diagnostics));
        Assert.False(string.IsNullOrEmpty(outcome.Id));
    }

    [Fact]
    public async Task ValidateSystem_ParametersWithResourceAndProfile_UsesTheProfile()
    {
        // Arrange: UK Core lets a Condition go uncoded; the Wirral profile does not.
        var condition = ClinicalData.Condition("c1", "p1");
        condition.Code = null;
        var parameters = new Parameters();
        parameters.Add("resource", condition);
        parameters.Add("profile", new FhirUri("https://fhir.wirralcarerecord.nhs.uk/StructureDefinition/WCR-Condition"));

        // Act
        var response = await Admin().PostAsync("/fhir/$validate", Body(parameters));

        // Assert
        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.OK);
        Assert.Equal("Missing required member: 'code'", Assert.Single(outcome.Errors()).Diagnostics);
    }

    [Fact]
    public async Task Validate_ConformingResource_AllOk()
    {
        // Act
        var response = await Admin().PostAsync("/fhir/Condition/$validate?profile=https://fhir.hl7.org.uk/StructureDefinition/UKCore-Condition", Body(ClinicalData.Condition("c1", "p1")));

        // Assert
        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.OK);
        Assert.True(outcome.Success, outcome.Text());
    }

    [Fact]
    public async Task Validate_ElementTheReaderDoesNotKnow_ReportedWithTheValidation()
    {
        // Arrange
        const string json = """{"resourceType":"Patient","id":"p1","favouriteColour":"green","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}],"name":[{"family":"Jones"}],"birthDate":"1958-03-14"}""";

        // Act
        var response = await Admin().PostAsync("/fhir/Patient/$validate", new StringContent(json, Encoding.UTF8, FhirJson.MediaType));

        // Assert
        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.OK);
        var error = Assert.Single(outcome.Errors());
        Assert.Contains("favouriteColour", error.Diagnostics, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/fhir/Patient/$validate?profile=https://example.org/StructureDefinition/nope", "is not known to the gateway")]
    [InlineData("/fhir/Condition/$validate", "The body is a Patient, but the request is for Condition/$validate.")]
    [InlineData("/fhir/Widget/$validate", "'Widget' is not a FHIR R4 resource type.")]
    public async Task Validate_RequestThatCannotBeValidated_Returns400(string path, string expected)
    {
        // Act
        var response = await Admin().PostAsync(path, Body(FhirSource.NewPatient("p1", "9000000009")));

        // Assert
        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(expected, outcome.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_BodyNotFhir_Returns400()
    {
        // Act
        var response = await Admin().PostAsync("/fhir/$validate", new StringContent("not json at all", Encoding.UTF8, FhirJson.MediaType));

        // Assert
        var outcome = await FhirAssert.OutcomeAsync(response, HttpStatusCode.BadRequest);
        Assert.StartsWith("The body is not a FHIR R4 resource in JSON", outcome.Issue[0].Diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_Clinician_Returns403()
    {
        // Act
        var response = await _host.CreateClient(_issuer.CreateToken()).PostAsync("/fhir/$validate", Body(FhirSource.NewPatient("p1", "9000000009")));

        // Assert
        await FhirAssert.OutcomeAsync(response, HttpStatusCode.Forbidden);
    }

    private HttpClient Admin() => _host.CreateClient(_issuer.CreateToken(role: "OnboardingAdmin"));

    private static StringContent Body(Resource resource) => new(FhirJson.Serialize(resource), Encoding.UTF8, FhirJson.MediaType);
}
