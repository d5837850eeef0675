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
        AssertSingleError(outcome, "Patient", "Missing required member: 'birthDate'");
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
        AssertSingleError(outcome, "Patient", "Instance count at element 'identifier' is 2, which is not within the specified cardinality of 1..1 (for slice nhsNumber)");
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
        AssertSingleError(outcome, "Patient", "No elements matched required slice: 'identifier:nhsNumber'");
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
        AssertSingleError(outcome, "AuditEvent", "No elements matched required slice: 'agent:gateway'");
    }

    [Fact]
    public void Slicing_ClosedAndNoSliceMatches_ReportedOnTheItem()
    {
        // Arrange: UK Core blood pressure slices components by code.text, closed; a third kind is not allowed.
        var (resource, _) = Definitions.Read(Definitions.Fixture("ukcore-examples", "UKCore-Observation-VitalSigns-BloodPressure-Example.xml"));
        // (The profile is the corrected copy in profiles/ukcore: see profiles/README.md.)
        var observation = Assert.IsType<Observation>(resource);
        observation.Component[1].Code.Text = "Mean blood pressure";

        // Act
        var outcome = Definitions.Engine.Validate(observation, Definitions.UkCore + "UKCore-Observation-VitalSigns-BloodPressure");

        // Assert
        AssertSingleError(outcome, "Observation.component[1]", "Element does not match any slice and the group is closed.");
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
        AssertSingleError(outcome, "Provenance.agent[0].who[0].identifier[0].system[0]", "is not exactly equal to fixed value 'https://fhir.nhs.uk/Id/ods-organization-code'");
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
        AssertSingleError(outcome, "AuditEvent.agent[0].requestor[0]", "Value 'false' is not exactly equal to fixed value 'true' (for slice user)");
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
        // Firely renders the pattern from the profile's snapshot; how it brackets a one-item list depends on how the
        // definition was read, so the message is held to the pattern's system and code, not to its punctuation.
        AssertSingleError(outcome, "Provenance.agent[0].type[0]", "\"code\":\"author\"}]}' does not match pattern '{\"coding\":");
        Assert.Contains("\"system\":\"http://terminology.hl7.org/CodeSystem/provenance-participant-type\",\"code\":\"custodian\"}", outcome.Errors()[0].Diagnostics, StringComparison.Ordinal);
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
        AssertSingleError(outcome, "Immunization.occurrence[0]", "The declared type of the element (dateTime) is incompatible with that of the instance (string).");
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
        AssertSingleError(outcome, "Patient.birthDate[0]", "does not match regex");
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
        AssertSingleError(outcome, "AllergyIntolerance.clinicalStatus[0]", "Code 'active' from system 'http://terminology.hl7.org/CodeSystem/condition-clinical' does not exist in the value set 'AllergyIntolerance Clinical Status Codes' (http://hl7.org/fhir/ValueSet/allergyintolerance-clinical), but the binding is of strength 'required'");
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
        Assert.StartsWith("Code 'ltc' from system 'https://fhir.example.nhs.uk/CodeSystem/local-category' does not exist in the value set", warning.Diagnostics, StringComparison.Ordinal);
        Assert.EndsWith("(the binding is of strength 'extensible')", warning.Diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public void Binding_SnomedCode_ReportedNotCheckedThroughTheTerminologyService()
    {
        // Arrange: UK Core binds Condition.code (preferred) to a SNOMED CT value set; Firely alone would skip it silently.
        var condition = Condition();

        // Act
        var outcome = Validate(condition);

        // Assert
        Assert.True(outcome.Success);
        var issue = Assert.Single(outcome.Issue);
        Assert.Equal((IssueSeverity.Information, "Condition.code[0]"), (issue.Severity, issue.Expression.Single()));
        Assert.StartsWith("Not checked: SNOMED CT codes are not held by the gateway, so this code was not checked against https://fhir.hl7.org.uk/ValueSet/UKCore-ConditionCode.", issue.Diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public void Binding_DmdCode_ReportedNotChecked()
    {
        // Arrange: a medicine coded in dm+d only.
        var statement = new MedicationStatement
        {
            Id = "ms1",
            Text = Text("Amoxicillin 500mg capsules"),
            Status = MedicationStatement.MedicationStatusCodes.Active,
            Medication = new CodeableConcept("https://dmd.nhs.uk", "39732311000001104", "Amoxicillin 500mg capsules"),
            Subject = new ResourceReference("Patient/p1"),
            Effective = new FhirDateTime("2026-01-10"),
        };

        // Act
        var outcome = Validate(statement);

        // Assert
        Assert.True(outcome.Success, outcome.Issue.Describe());
        Assert.Contains(outcome.Issue, i => i.Severity == IssueSeverity.Information && i.Diagnostics!.StartsWith("Not checked: dm+d codes are not held by the gateway", StringComparison.Ordinal));
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
        Assert.Contains("does not exist in the value set 'Wirral Care Record purpose of use' (https://fhir.wirralcarerecord.nhs.uk/ValueSet/wcr-purpose-of-use)", warning.Diagnostics, StringComparison.Ordinal);
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
        AssertSingleError(outcome, "AuditEvent.purposeOfEvent[0]", "Code 'NOPE' does not exist in the code system 'http://terminology.hl7.org/CodeSystem/v3-ActReason'");
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
        AssertSingleError(outcome, "Encounter", "Instance failed constraint wcr-enc-1 \"An encounter that has started says when: period.start is required unless it is planned, cancelled or entered in error.\"");
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
        Assert.Equal((IssueType.Invariant, "AllergyIntolerance", "Instance failed constraint wcr-ait-1 \"An allergy should say when it was recorded or began.\""), (warning.Code, warning.Expression.Single(), warning.Diagnostics));
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
        AssertSingleError(outcome, "Patient.identifier[0].value[0]", "Instance failed constraint wcr-pat-1 \"An NHS number is 10 digits, without spaces.\" (for slice nhsNumber)");
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
        AssertSingleError(outcome, "Encounter.period[0]", "Instance failed constraint per-1 \"If present, start SHALL have a lower value than end\"");
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
        AssertSingleError(outcome, "Condition.subject[0]", "Referenced resource 'Practitioner/dr-patel' is of type 'Practitioner', which is not one of the allowed target types ('Patient').");
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
        var error = Assert.Single(outcome.Errors());
        Assert.Equal("Condition.subject[0]", error.Expression.Single());
        Assert.StartsWith("Instance failed constraint ref-1", error.Diagnostics, StringComparison.Ordinal);
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
        AssertSingleError(outcome, "Patient.extension[0]", "Unable to resolve reference to extension 'http://hl7.org/fhir/StructureDefinition/patient-favouriteColour'");
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
        Assert.Equal((IssueSeverity.Warning, "Patient.extension[0]"), (issue.Severity, issue.Expression.Single()));
        Assert.Equal("Unable to resolve reference to extension 'https://fhir.example-pas.co.uk/StructureDefinition/ward'.", issue.Diagnostics);
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
        AssertSingleError(outcome, "Condition.extension[0]", "Extension used outside of appropriate contexts. Expected context to be one of: {ELEMENT,Patient}");
    }

    [Fact]
    public void Profile_Unknown_IsReported()
    {
        // Act
        var outcome = Validate(Patient(), "https://example.org/StructureDefinition/nope");

        // Assert
        AssertSingleError(outcome, "Patient", "The profile 'https://example.org/StructureDefinition/nope' is not known to the gateway.");
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
        AssertSingleError(declared, "Bundle.entry[1].resource[0]", "Missing required member: 'code'");
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

    /// <summary>Exactly one error, at <paramref name="location"/>, whose message contains <paramref name="message"/> (Firely's wording).</summary>
    private static void AssertSingleError(OperationOutcome outcome, string location, string message)
    {
        var errors = outcome.Errors();
        Assert.True(errors.Count == 1, $"expected one error at {location}:{Environment.NewLine}{outcome.Issue.Describe()}");
        var error = errors[0];
        Assert.True(error.Expression.FirstOrDefault() == location && (error.Diagnostics ?? "").Contains(message, StringComparison.Ordinal), outcome.Issue.Describe());
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
