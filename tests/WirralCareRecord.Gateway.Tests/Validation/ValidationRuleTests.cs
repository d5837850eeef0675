using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Tests.Common;
using IssueSeverity = Hl7.Fhir.Model.OperationOutcome.IssueSeverity;
using IssueType = Hl7.Fhir.Model.OperationOutcome.IssueType;

namespace WirralCareRecord.Gateway.Tests.Validation;

/// <summary>Hand-made instances breaking one rule each: the validator must report exactly that issue, at that location.</summary>
public class ValidationRuleTests
{
    private const string NhsSystem = "https://fhir.nhs.uk/Id/nhs-number";
    private const string OdsSystem = "https://fhir.nhs.uk/Id/ods-organization-code";
    private const string ActReason = "http://terminology.hl7.org/CodeSystem/v3-ActReason";

    [Fact]
    public void Validate_ConformingWirralPatient_IsAllOk()
    {
        // Act
        var outcome = Validate(Patient());

        // Assert
        var issue = Assert.Single(outcome.Issue);
        Assert.Equal((IssueSeverity.Information, IssueType.Informational, "All OK"), (issue.Severity, issue.Code, issue.Diagnostics));
        Assert.True(outcome.Success);
    }

    [Fact]
    public void Cardinality_RequiredElementMissing_ReportedAtTheParent()
    {
        // Arrange
        var patient = Patient();
        patient.BirthDate = null;

        // Act
        var outcome = Validate(patient);

        // Assert
        AssertSingleError(outcome, IssueType.Required, "Patient", "Patient.birthDate: minimum required = 1, but only found 0.");
    }

    [Fact]
    public void Cardinality_SliceMaximumExceeded_Reported()
    {
        // Arrange
        var patient = Patient();
        patient.Identifier.Add(new Identifier(NhsSystem, "9000000017"));

        // Act
        var outcome = Validate(patient);

        // Assert
        AssertSingleError(outcome, IssueType.Structure, "Patient", "Patient.identifier:nhsNumber: maximum allowed = 1, but found 2.");
    }

    [Fact]
    public void Slicing_ValueDiscriminatorMatchesNothing_RequiredSliceReportedMissing()
    {
        // Arrange: an identifier, but not in the NHS number system the slice is fixed to.
        var patient = Patient();
        patient.Identifier = [new Identifier("https://fhir.example.nhs.uk/Id/local-mrn", "RBL123456")];

        // Act
        var outcome = Validate(patient);

        // Assert
        AssertSingleError(outcome, IssueType.Required, "Patient", "Patient.identifier:nhsNumber: minimum required = 1, but only found 0.");
    }

    [Fact]
    public void Slicing_PatternDiscriminator_RequiredSliceMissing()
    {
        // Arrange: the gateway's own audit record without its gateway agent (agent slicing by type pattern).
        var audit = AuditEvent();
        audit.Agent.RemoveAll(a => a.Type.Coding[0].Code == "110152");

        // Act
        var outcome = Validate(audit);

        // Assert
        AssertSingleError(outcome, IssueType.Required, "AuditEvent", "AuditEvent.agent:gateway: minimum required = 1, but only found 0.");
    }

    [Fact]
    public void Slicing_ClosedAndNoSliceMatches_ReportedOnTheItem()
    {
        // Arrange: UK Core blood pressure slices components by code.text, closed; a third kind is not allowed.
        var (resource, _) = Definitions.Read(Definitions.Fixture("ukcore-examples", "UKCore-Observation-VitalSigns-BloodPressure-Example.xml"));
        var observation = Assert.IsType<Observation>(resource);
        observation.Component[1].Code.Text = "Mean blood pressure";

        // Act
        var outcome = Definitions.Engine.Validate(observation, Definitions.UkCore + "UKCore-Observation-VitalSigns-BloodPressure");

        // Assert
        AssertSingleError(outcome, IssueType.Structure, "Observation.component[1]", "Observation.component: this item matches none of the slices (SystolicBP, DiastolicBP) and the slicing is closed.");
    }

    [Fact]
    public void FixedValue_Different_ReportedOnTheElement()
    {
        // Arrange
        var provenance = Provenance();
        provenance.Agent[0].Who.Identifier.System = "https://example.org/ods";

        // Act
        var outcome = Validate(provenance);

        // Assert
        AssertSingleError(outcome, IssueType.Value, "Provenance.agent[0].who.identifier.system", "Provenance.agent.who.identifier.system: the value must be exactly 'https://fhir.nhs.uk/Id/ods-organization-code'.");
    }

    [Fact]
    public void FixedValue_InASlice_ReportedOnTheElement()
    {
        // Arrange
        var audit = AuditEvent();
        audit.Agent[0].Requestor = false;

        // Act
        var outcome = Validate(audit);

        // Assert
        AssertSingleError(outcome, IssueType.Value, "AuditEvent.agent[0].requestor", "AuditEvent.agent:user.requestor: the value must be exactly 'true'.");
    }

    [Fact]
    public void PatternValue_NotMatched_ReportedOnTheElement()
    {
        // Arrange
        var provenance = Provenance();
        provenance.Agent[0].Type = new CodeableConcept("http://terminology.hl7.org/CodeSystem/provenance-participant-type", "author");

        // Act
        var outcome = Validate(provenance);

        // Assert
        AssertSingleError(outcome, IssueType.Value, "Provenance.agent[0].type", "Provenance.agent.type: the value must match http://terminology.hl7.org/CodeSystem/provenance-participant-type#custodian.");
    }

    [Fact]
    public void ChoiceType_NotAllowedByTheProfile_ReportedWithItsType()
    {
        // Arrange: WCR-Immunization allows occurrence[x] as dateTime only.
        var immunization = Immunization();
        immunization.Occurrence = new FhirString("last spring");

        // Act
        var outcome = Validate(immunization);

        // Assert
        AssertSingleError(outcome, IssueType.Structure, "Immunization.occurrence.ofType(string)", "Immunization.occurrence[x]: type 'string' is not allowed here; expected dateTime.");
    }

    [Fact]
    public void ChoiceType_Allowed_Conforms()
    {
        // Act
        var outcome = Validate(Immunization());

        // Assert
        Assert.True(outcome.Success, outcome.Errors().Describe());
    }

    [Fact]
    public void Primitive_InvalidDate_ReportedOnTheElement()
    {
        // Arrange
        var patient = Patient();
        patient.BirthDate = "1970-13-45";

        // Act
        var outcome = Validate(patient);

        // Assert
        AssertSingleError(outcome, IssueType.Value, "Patient.birthDate", "Patient.birthDate: '1970-13-45' is not a valid date.");
    }

    [Fact]
    public void RequiredBinding_CodeFromAnotherValueSet_IsAnError()
    {
        // Arrange
        var allergy = Allergy();
        allergy.ClinicalStatus = new CodeableConcept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active");

        // Act
        var outcome = Validate(allergy);

        // Assert
        AssertSingleError(outcome, IssueType.CodeInvalid, "AllergyIntolerance.clinicalStatus", "AllergyIntolerance.clinicalStatus: http://terminology.hl7.org/CodeSystem/condition-clinical#active is not in the value set http://hl7.org/fhir/ValueSet/allergyintolerance-clinical, which is required.");
    }

    [Fact]
    public void ExtensibleBinding_CodeOutsideTheValueSet_IsAWarning()
    {
        // Arrange
        var condition = Condition();
        condition.Category = [new CodeableConcept("https://fhir.example.nhs.uk/CodeSystem/local-category", "ltc")];

        // Act
        var outcome = Validate(condition);

        // Assert
        Assert.True(outcome.Success);
        var warning = Assert.Single(outcome.Issue, i => i.Severity == IssueSeverity.Warning);
        Assert.Equal((IssueType.CodeInvalid, "Condition.category[0]"), (warning.Code, warning.Expression.Single()));
        Assert.StartsWith("Condition.category: https://fhir.example.nhs.uk/CodeSystem/local-category#ltc is not in the value set https://fhir.hl7.org.uk/ValueSet/UKCore-ConditionCategory", warning.Diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public void Binding_CodeSystemNotHeld_ReportedNotCheckedNotFailed()
    {
        // Arrange: languages are BCP 47 codes, which the gateway cannot enumerate.
        var patient = Patient();
        patient.Communication = [new Patient.CommunicationComponent { Language = new CodeableConcept("urn:ietf:bcp:47", "en") }];

        // Act
        var outcome = Validate(patient);

        // Assert
        Assert.True(outcome.Success);
        var issue = Assert.Single(outcome.Issue);
        Assert.Equal((IssueSeverity.Information, "Patient.communication[0].language"), (issue.Severity, issue.Expression.Single()));
        Assert.Equal("Patient.communication.language: code urn:ietf:bcp:47#en was not checked against http://hl7.org/fhir/ValueSet/all-languages: the code system is not available to the gateway.", issue.Diagnostics);
    }

    [Fact]
    public void Binding_ValueSetWithIsAFilter_ExpandedLocally()
    {
        // Arrange: wcr-purpose-of-use is "TREAT and everything under it" plus three more; BTG sits under TREAT.
        var breakGlass = AuditEvent();
        breakGlass.PurposeOfEvent = [new CodeableConcept(ActReason, "BTG")];
        var research = AuditEvent();
        research.PurposeOfEvent = [new CodeableConcept(ActReason, "HRESCH")];

        // Act
        var allowed = Validate(breakGlass);
        var outside = Validate(research);

        // Assert
        Assert.DoesNotContain(allowed.Issue, i => (i.Expression.FirstOrDefault()?.StartsWith("AuditEvent.purposeOfEvent", StringComparison.Ordinal) ?? false));
        var warning = Assert.Single(outside.Issue, i => i.Severity == IssueSeverity.Warning && (i.Expression.FirstOrDefault()?.StartsWith("AuditEvent.purposeOfEvent", StringComparison.Ordinal) ?? false));
        Assert.Equal("AuditEvent.purposeOfEvent[0]", warning.Expression.Single());
        Assert.Contains("is not in the value set https://fhir.wirralcarerecord.nhs.uk/ValueSet/wcr-purpose-of-use", warning.Diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public void Coding_CodeNotInItsCodeSystem_IsAnError()
    {
        // Arrange
        var audit = AuditEvent();
        audit.PurposeOfEvent = [new CodeableConcept(ActReason, "NOPE")];

        // Act
        var outcome = Validate(audit);

        // Assert
        AssertSingleError(outcome, IssueType.CodeInvalid, "AuditEvent.purposeOfEvent[0].coding[0]", "CodeableConcept.coding: 'NOPE' is not a code of http://terminology.hl7.org/CodeSystem/v3-ActReason.");
    }

    [Fact]
    public void Invariant_ProfileErrorSeverity_IsAnError()
    {
        // Arrange
        var encounter = Encounter();
        encounter.Period = null;

        // Act
        var outcome = Validate(encounter);

        // Assert
        AssertSingleError(outcome, IssueType.Invariant, "Encounter", "Invariant wcr-enc-1 failed: An encounter that has started says when: period.start is required unless it is planned, cancelled or entered in error.");
    }

    [Fact]
    public void Invariant_WarningSeverity_IsAWarningOnly()
    {
        // Arrange
        var allergy = Allergy();
        allergy.RecordedDateElement = null;

        // Act
        var outcome = Validate(allergy);

        // Assert
        Assert.True(outcome.Success);
        var warning = Assert.Single(outcome.Issue, i => i.Severity == IssueSeverity.Warning);
        Assert.Equal((IssueType.Invariant, "AllergyIntolerance", "Invariant wcr-ait-1 failed: An allergy should say when it was recorded or began."), (warning.Code, warning.Expression.Single(), warning.Diagnostics));
    }

    [Fact]
    public void Invariant_OnASliceElement_ReportedOnThatElement()
    {
        // Arrange
        var patient = Patient();
        patient.Identifier[0].Value = "900 000 0009";

        // Act
        var outcome = Validate(patient);

        // Assert
        AssertSingleError(outcome, IssueType.Invariant, "Patient.identifier[0].value", "Invariant wcr-pat-1 failed: An NHS number is 10 digits, without spaces.");
    }

    [Fact]
    public void Invariant_OfADataType_ReportedOnTheElement()
    {
        // Arrange
        var encounter = Encounter();
        encounter.Period = new Period(new FhirDateTime("2026-03-02T10:00:00Z"), new FhirDateTime("2026-03-01T10:00:00Z"));

        // Act
        var outcome = Validate(encounter);

        // Assert
        AssertSingleError(outcome, IssueType.Invariant, "Encounter.period", "Invariant per-1 failed: If present, start SHALL have a lower value than end");
    }

    [Fact]
    public void Reference_ToATypeTheProfileDoesNotAllow_IsAnError()
    {
        // Arrange
        var condition = Condition();
        condition.Subject = new ResourceReference("Practitioner/dr-patel");

        // Act
        var outcome = Validate(condition);

        // Assert
        AssertSingleError(outcome, IssueType.Structure, "Condition.subject", "Condition.subject: a reference to a Practitioner is not allowed here; expected Patient.");
    }

    [Fact]
    public void Reference_ToAMissingContainedResource_IsAnError()
    {
        // Arrange
        var condition = Condition();
        condition.Subject = new ResourceReference("#patient");

        // Act
        var outcome = Validate(condition);

        // Assert
        var errors = outcome.Errors();
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Code == IssueType.NotFound && e.Expression.Single() == "Condition.subject.reference" && e.Diagnostics == "Condition.subject: the contained resource '#patient' is not in this resource.");
        Assert.Contains(errors, e => e.Code == IssueType.Invariant && e.Expression.Single() == "Condition.subject" && e.Diagnostics!.StartsWith("Invariant ref-1 failed", StringComparison.Ordinal));
    }

    [Fact]
    public void Reference_ToAContainedResource_Resolves()
    {
        // Arrange
        var condition = Condition();
        var patient = Patient();
        patient.Id = "patient";
        condition.Contained = [patient];
        condition.Subject = new ResourceReference("#patient");

        // Act
        var outcome = Validate(condition);

        // Assert
        Assert.True(outcome.Success, outcome.Errors().Describe());
    }

    [Fact]
    public void Extension_UnknownInANamespaceHeldHere_IsAnError()
    {
        // Arrange
        var patient = Patient();
        patient.Extension = [new Extension("http://hl7.org/fhir/StructureDefinition/patient-favouriteColour", new FhirString("green"))];

        // Act
        var outcome = Validate(patient);

        // Assert
        AssertSingleError(outcome, IssueType.Extension, "Patient.extension[0]", "The extension 'http://hl7.org/fhir/StructureDefinition/patient-favouriteColour' is not defined: no such extension exists in that namespace.");
    }

    [Fact]
    public void Extension_FromElsewhere_IsReportedButAllowed()
    {
        // Arrange
        var patient = Patient();
        patient.Extension = [new Extension("https://fhir.example-pas.co.uk/StructureDefinition/ward", new FhirString("Ward 21"))];

        // Act
        var outcome = Validate(patient);

        // Assert
        Assert.True(outcome.Success);
        var issue = Assert.Single(outcome.Issue);
        Assert.Equal((IssueSeverity.Information, IssueType.Extension, "Patient.extension[0]"), (issue.Severity, issue.Code, issue.Expression.Single()));
    }

    [Fact]
    public void Extension_OutsideItsContext_IsAnError()
    {
        // Arrange: birth place belongs on a Patient.
        var condition = Condition();
        condition.Extension = [new Extension("http://hl7.org/fhir/StructureDefinition/patient-birthPlace", new Address { City = "Birkenhead" })];

        // Act
        var outcome = Validate(condition);

        // Assert
        AssertSingleError(outcome, IssueType.Structure, "Condition.extension[0]", "The extension 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace' is not allowed on Condition; its definition allows it on Patient.");
    }

    [Fact]
    public void Profile_Unknown_IsReported()
    {
        // Act
        var outcome = Validate(Patient(), "https://example.org/StructureDefinition/nope");

        // Assert
        AssertSingleError(outcome, IssueType.NotSupported, "Patient", "The profile 'https://example.org/StructureDefinition/nope' is not known to the gateway.");
    }

    [Fact]
    public void Profile_NotGiven_IsMetaProfileElseTheWirralProfile()
    {
        // Arrange: UK Core does not require a date of birth; the Wirral profile does.
        var withoutBirthDate = Patient();
        withoutBirthDate.BirthDate = null;
        var declaringUkCore = Patient();
        declaringUkCore.BirthDate = null;
        declaringUkCore.Meta = new Meta { Profile = [Definitions.UkCore + "UKCore-Patient"] };

        // Act
        var wirral = Validate(withoutBirthDate);
        var ukCore = Validate(declaringUkCore);

        // Assert
        Assert.False(wirral.Success);
        Assert.True(ukCore.Success, ukCore.Errors().Describe());
        Assert.True(Definitions.Engine.HasProfile(Definitions.Wirral + "WCR-Patient"));
        Assert.False(Definitions.Engine.HasProfile("https://example.org/StructureDefinition/nope"));
    }

    [Fact]
    public void Bundle_EntryProblems_LocatedInsideTheBundle()
    {
        // Arrange
        var condition = Condition();
        condition.Code = null;
        var bundle = new Bundle
        {
            Type = Bundle.BundleType.Collection,
            Entry =
            [
                new Bundle.EntryComponent { FullUrl = "https://gp.example.nhs.uk/fhir/Patient/p1", Resource = Patient() },
                new Bundle.EntryComponent { FullUrl = "https://gp.example.nhs.uk/fhir/Condition/c1", Resource = condition },
            ],
        };

        // Act: entries without a declared profile are checked against base R4, which lets a Condition go uncoded.
        var outcome = Validate(bundle, Definitions.Core + "Bundle");
        condition.Meta = new Meta { Profile = [Definitions.Wirral + "WCR-Condition"] };
        var declared = Validate(bundle, Definitions.Core + "Bundle");

        // Assert
        Assert.True(outcome.Success, outcome.Errors().Describe());
        AssertSingleError(declared, IssueType.Required, "Bundle.entry[1].resource", "Condition.code: minimum required = 1, but only found 0.");
    }

    [Fact]
    public void GatewayAuditEvent_Refusal_ConformsToWcrAuditEvent()
    {
        // Arrange: a refusal of an unidentified caller (no user, no organisation, no patient), as the gateway writes it.
        var refusal = AuditEventFactory.Create(
            new AccessAudit(AccessKind.FederatedRead, "corr-2", null, null, [], null, "TREAT", null, "GET /fhir/Patient/$wcr-getrecord", 401, "Sign-in is required", []),
            DateTimeOffset.UtcNow,
            "test-instance");

        // Act
        var outcome = Validate(refusal);

        // Assert
        Assert.True(outcome.Success, outcome.Errors().Describe());
    }

    [Fact]
    public void GatewayAuditEvent_WithOrganisation_ConformsToWcrAuditEvent()
    {
        // Arrange: the gateway's own record of a read, exactly as AuditEventFactory writes it today.
        var read = AuditEventFactory.Create(AccessOf(), DateTimeOffset.UtcNow, "test-instance");

        // Act
        var outcome = Validate(read);

        // Assert: the organisation agent is coded v3-RoleClass#PROV, as IHE BALP codes it.
        Assert.Empty(outcome.Errors());
    }

    private static OperationOutcome Validate(Resource resource, string? profile = null) => Definitions.Engine.Validate(resource, profile);

    private static void AssertSingleError(OperationOutcome outcome, IssueType code, string location, string message)
    {
        var error = Assert.Single(outcome.Errors());
        Assert.Equal((IssueSeverity.Error, code, location, message), (error.Severity!.Value, error.Code!.Value, error.Expression.Single(), error.Diagnostics));
    }

    private static Patient Patient()
    {
        var patient = FhirSource.NewPatient("p1", "9000000009");
        patient.Text = new Narrative { Status = Narrative.NarrativeStatus.Generated, Div = "<div xmlns=\"http://www.w3.org/1999/xhtml\">Sarah Jones</div>" };
        return patient;
    }

    private static Condition Condition()
    {
        var condition = ClinicalData.Condition("c1", "p1");
        condition.Text = Text("Type 2 diabetes mellitus");
        return condition;
    }

    private static AllergyIntolerance Allergy()
    {
        var allergy = ClinicalData.Allergy("a1", "p1");
        allergy.ClinicalStatus = new CodeableConcept("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active");
        allergy.RecordedDate = "2024-05-01";
        allergy.Text = Text("Allergy to penicillin");
        return allergy;
    }

    private static Encounter Encounter()
    {
        var encounter = ClinicalData.Encounter("e1", "p1");
        encounter.Period = new Period(new FhirDateTime("2026-03-01T10:00:00Z"), new FhirDateTime("2026-03-01T14:00:00Z"));
        encounter.Text = Text("Emergency attendance");
        return encounter;
    }

    private static Immunization Immunization() => new()
    {
        Id = "i1",
        Text = Text("Influenza vaccine"),
        Status = Hl7.Fhir.Model.Immunization.ImmunizationStatusCodes.Completed,
        VaccineCode = new CodeableConcept(ClinicalData.Snomed, "39114911000001105", "Influenza vaccine"),
        Patient = new ResourceReference("Patient/p1"),
        Occurrence = new FhirDateTime("2025-10-14T09:30:00Z"),
    };

    private static Provenance Provenance() => new()
    {
        Id = "prov-1",
        Text = Text("From RBL"),
        Target = [new ResourceReference("https://gateway.example/sources/RBL/fhir/Condition/c1")],
        Recorded = new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.Zero),
        Policy = ["https://fhir.wirralcarerecord.nhs.uk/agreements/WCR-DSA-2026"],
        Agent =
        [
            new Provenance.AgentComponent
            {
                Type = new CodeableConcept("http://terminology.hl7.org/CodeSystem/provenance-participant-type", "custodian", "Custodian"),
                Who = new ResourceReference { Identifier = new Identifier(OdsSystem, "RBL"), Display = "Wirral University Teaching Hospital" },
            },
        ],
    };

    private static AccessAudit AccessOf() => new(
        AccessKind.FederatedRead, "corr-1", "user-1", "Dr S Patel", ["Clinician"], "N85001", "TREAT", "9000000009",
        "GET /fhir/Patient/$wcr-getrecord", 200, null, [new SourceAuditEntry("RBL", "returned", 12, 0, 3)]);

    /// <summary>The gateway's audit record of a read, with the organisation agent coded as WCR-AuditEvent (and BALP) expect.</summary>
    private static AuditEvent AuditEvent()
    {
        var audit = AuditEventFactory.Create(AccessOf(), new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.Zero), "test-instance");
        audit.Agent.Single(a => a.Type.Coding[0].Code == "PROV").Type = new CodeableConcept("http://terminology.hl7.org/CodeSystem/v3-RoleClass", "PROV", "healthcare provider");
        audit.Text = Text("Record read");
        return audit;
    }

    private static Narrative Text(string text) => new() { Status = Narrative.NarrativeStatus.Generated, Div = $"<div xmlns=\"http://www.w3.org/1999/xhtml\">{text}</div>" };
}
