using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Demo.Population;

/// <summary>
/// Builds the Patient a source holds: the same demographics everywhere (as traced from PDS), its own id; only a
/// hard case (<see cref="HardCases"/>) may hold another date of birth at one source.
/// </summary>
internal static class PatientFactory
{
    private const string VerificationStatusExtension = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus";
    private const string VerificationStatusSystem = "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland";

    public static Patient Create(SyntheticPerson person, string id, DemoOrganisation source)
    {
        var gp = SyntheticPopulation.Practice(person.RegisteredGpOdsCode);
        return new Patient
        {
            Id = id,
            Identifier =
            [
                new Identifier(NhsNumber.System, person.NhsNumber)
                {
                    Extension =
                    [
                        new Extension(VerificationStatusExtension, new CodeableConcept(VerificationStatusSystem, "01", "Number present and verified", null)),
                    ],
                },
            ],
            Name =
            [
                new HumanName
                {
                    Use = HumanName.NameUse.Official,
                    Family = person.FamilyName,
                    Given = [person.GivenName],
                    Prefix = person.Prefix.Length == 0 ? [] : [person.Prefix],
                },
            ],
            Gender = person.Gender,
            BirthDate = PatientChart.Date(HardCases.BirthDateHeldBy(person, source)),
            Address =
            [
                new Address
                {
                    Use = Address.AddressUse.Home,
                    Type = Address.AddressType.Physical,
                    Line = person.Address.Locality.Length == 0 ? [person.Address.Street] : [person.Address.Street, person.Address.Locality],
                    City = person.Address.PostTown,
                    PostalCode = person.Address.Postcode,
                },
            ],
            Telecom = [new ContactPoint(ContactPoint.ContactPointSystem.Phone, ContactPoint.ContactPointUse.Home, person.Phone)],
            GeneralPractitioner = [new ResourceReference { Identifier = new Identifier(OdsCode.System, gp.OdsCode), Display = gp.Name }],
            ManagingOrganization = PatientChart.OrganisationReference(source),
        };
    }
}
