using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Tests.PatientMatching;

public sealed class RecordSafetyTests
{
    private const string Base = "https://pas.example.nhs.uk/fhir";

    [Theory]
    [InlineData("Patient/p1", "p1")]
    [InlineData("Patient/p1/_history/3", "p1")]
    [InlineData(Base + "/Patient/p1", "p1")]
    [InlineData(Base + "/Patient/p1/_history/3", "p1")]
    [InlineData("https://other.example.nhs.uk/fhir/Patient/p1", null)]
    [InlineData("#contained-patient", null)]
    [InlineData("Patient/", null)]
    [InlineData("Group/g1", null)]
    [InlineData("Patient/p1/extra", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void PatientIdOf_References_ReadOnlyThisSourcesPatients(string? reference, string? expected)
    {
        Assert.Equal(expected, RecordSafety.PatientIdOf(reference, Base));
    }
}
