using Hl7.Fhir.Model;

namespace WirralCareRecord.Demo.Sources;

/// <summary>The CapabilityStatement a demo source publishes at <c>/fhir/metadata</c>.</summary>
internal static class SourceCapability
{
    public static CapabilityStatement Create(DemoSourceOptions options, Uri baseUrl) => new()
    {
        Name = $"WirralDemoSource{options.OdsCode}",
        Title = $"{options.Name} (synthetic demo source)",
        Status = PublicationStatus.Active,
        Experimental = true,
        Date = "2026-11-01",
        Publisher = options.Name,
        Kind = CapabilityStatementKind.Instance,
        Software = new CapabilityStatement.SoftwareComponent { Name = "Wirral Care Record demo source", Version = "1.0" },
        Implementation = new CapabilityStatement.ImplementationComponent
        {
            Description = $"Synthetic FHIR R4 records for {options.Name} ({options.OdsCode}); no real patient data.",
            Url = baseUrl.ToString(),
        },
        FhirVersion = FHIRVersion.N4_0_1,
        Format = ["json"],
        Rest =
        [
            new CapabilityStatement.RestComponent
            {
                Mode = CapabilityStatement.RestfulCapabilityMode.Server,
                Resource =
                [
                    PatientResource(options.OfferRevInclude),
                    .. SourceRecordStore.ClinicalTypes.Select(type =>
                        Resource(type, "patient", SearchParamType.Reference, "http://hl7.org/fhir/SearchParameter/clinical-patient")),
                ],
            },
        ],
    };

    private static CapabilityStatement.ResourceComponent PatientResource(bool revInclude)
    {
        var patient = Resource("Patient", "identifier", SearchParamType.Token, "http://hl7.org/fhir/SearchParameter/Patient-identifier");
        if (revInclude)
        {
            patient.SearchParam.Add(new CapabilityStatement.SearchParamComponent { Name = "_id", Type = SearchParamType.Token, Definition = "http://hl7.org/fhir/SearchParameter/Resource-id" });
            patient.SearchRevInclude = [.. SourceRecordStore.ClinicalTypes.Select(RevIncludeOf)];
        }

        return patient;
    }

    /// <summary>The reverse include of one record type on a Patient search, as R4 writes it: <c>Condition:patient</c>.</summary>
    public static string RevIncludeOf(string type) => type + ":patient";

    private static CapabilityStatement.ResourceComponent Resource(string type, string parameter, SearchParamType parameterType, string definition) => new()
    {
        Type = type,
        Interaction =
        [
            new CapabilityStatement.ResourceInteractionComponent { Code = CapabilityStatement.TypeRestfulInteraction.Read },
            new CapabilityStatement.ResourceInteractionComponent { Code = CapabilityStatement.TypeRestfulInteraction.SearchType },
        ],
        SearchParam = [new CapabilityStatement.SearchParamComponent { Name = parameter, Type = parameterType, Definition = definition }],
    };
}
