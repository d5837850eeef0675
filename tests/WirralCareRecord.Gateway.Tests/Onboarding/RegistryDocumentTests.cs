using System.Text.Json;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Tests.Onboarding;

public sealed class RegistryDocumentTests
{
    private static RegistryDocument Parse(string json) => JsonSerializer.Deserialize<RegistryDocument>(json, RegistryDocument.JsonOptions)!;

    [Fact]
    public void ToSnapshot_ValidFile_ReadsOrganisationsAndAgreements()
    {
        var file = Parse("""
            {
              "organisations": [
                { "odsCode": "rbl", "name": "Wirral University Teaching Hospital", "kind": "AcuteTrust", "fhirBaseUrl": "https://pas.example.nhs.uk/fhir/", "phase": 1, "state": "Live", "timeoutSeconds": 3 }
              ],
              "agreements": [
                { "id": "WCR-DSA-2026", "version": "1.0", "providers": ["RBL"], "consumers": ["rbl"], "signedBy": "IG lead",
                  "signedOn": "2026-01-10", "effectiveFrom": "2026-01-10", "expires": "2028-01-09", "dataCategories": ["Condition"],
                  "document": { "blobName": "WCR-DSA-2026/v1.0/a.pdf", "sha256": "4a3cdfae6f291c8f544daea5b72905cf9e74c1ed427d831ad0d7ca00c73c794d", "size": 1024, "contentType": "application/pdf", "uploadedAt": "2026-01-10T09:00:00Z", "uploadedBy": "admin" } }
              ]
            }
            """);

        var snapshot = file.ToSnapshot();

        var rbl = Assert.Single(snapshot.Organisations);
        Assert.Equal("RBL", rbl.OdsCode);
        Assert.Equal(OrganisationKind.AcuteTrust, rbl.Kind);
        Assert.Equal("https://pas.example.nhs.uk/fhir", rbl.FhirBaseUrl.ToString().TrimEnd('/'));
        Assert.Equal(TimeSpan.FromSeconds(3), rbl.Timeout);
        var agreement = Assert.Single(snapshot.Agreements);
        Assert.Equal(["RBL"], agreement.Consumers);
        Assert.True(agreement.IsActiveOn(new DateOnly(2028, 1, 9)));
        Assert.False(agreement.IsActiveOn(new DateOnly(2028, 1, 10)));
        Assert.Same(rbl, snapshot.Find("rbl"));
    }

    [Fact]
    public void ToSnapshot_InvalidEntries_ReportsEveryProblemAtOnce()
    {
        var file = Parse("""
            {
              "organisations": [
                { "odsCode": "R!", "name": "Bad code", "kind": "Other", "fhirBaseUrl": "https://x.example/fhir", "state": "Live" },
                { "odsCode": "RY7", "name": "No URL", "kind": "CommunityTrust", "fhirBaseUrl": "ftp://x.example/fhir", "state": "Live" },
                { "odsCode": "N85001", "name": "A", "kind": "GpPractice", "fhirBaseUrl": "https://a.example/fhir", "state": "Live" },
                { "odsCode": "n85001", "name": "A again", "kind": "GpPractice", "fhirBaseUrl": "https://b.example/fhir", "state": "Live" }
              ],
              "agreements": [
                { "id": "BACKWARDS", "effectiveFrom": "2027-01-01", "expires": "2026-01-01" }
              ]
            }
            """);

        var error = Assert.Throws<InvalidDataException>(file.ToSnapshot);

        Assert.Contains("'R!' is not an ODS code", error.Message, StringComparison.Ordinal);
        Assert.Contains("(RY7) fhirBaseUrl", error.Message, StringComparison.Ordinal);
        Assert.Contains("(n85001) appears more than once", error.Message, StringComparison.Ordinal);
        Assert.Contains("(BACKWARDS) expires before it takes effect", error.Message, StringComparison.Ordinal);
    }
}
