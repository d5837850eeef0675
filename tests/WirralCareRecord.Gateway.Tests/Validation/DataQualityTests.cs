using System.Net;
using Hl7.Fhir.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;
using WirralCareRecord.Gateway.Tests.Onboarding;
using WirralCareRecord.Gateway.Validation;

namespace WirralCareRecord.Gateway.Tests.Validation;

/// <summary>
/// Source data quality, measured in the background: the sampler copies a chosen share of answers and never holds a
/// read; the figures keep locations and rules, never values; the admin API shows them to onboarding staff only.
/// </summary>
public sealed class DataQualityTests : IDisposable
{
    private const string Nhs = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);

    [Fact]
    public async Task RecordRead_SamplingEveryAnswer_FiguresShowTheSourcesProblemsByLocation()
    {
        // Arrange: one condition without a code (WCR-Condition requires one) among conforming items.
        var uncoded = ClinicalData.Condition("c2", "gp-1");
        uncoded.Code = null;
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"), uncoded);
        using var host = new GatewayHost(_issuer, [_gp], settings: new() { ["Validation:SampleShare"] = "1", ["Validation:SampleMaxCpuShare"] = "1" });
        var clinician = host.CreateClient(_issuer.CreateToken());

        // Act
        using var read = await clinician.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");
        var bundle = await FhirAssert.ReadAsync<Bundle>(read, HttpStatusCode.OK);
        await host.Services.GetRequiredService<SourceAnswerSampler>().DrainAsync(TestContext());
        var report = await host.CreateClient(_issuer.CreateToken(role: "OnboardingAdmin")).GetAsync("/admin/organisations/N85001/data-quality").ExpectAsync<DataQualityReport>(HttpStatusCode.OK);

        // Assert: the read is unchanged (the non-conforming item is shown, nothing about conformance is added).
        Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "c2" });
        Assert.DoesNotContain(bundle.SourceOutcomes()?.Issue ?? [], i => i.Diagnostics?.Contains("conform", StringComparison.Ordinal) == true);
        // A sample that could not be validated is logged by its exception's type only (no data in logs): shown if it fails.
        Assert.True(report.ResourcesChecked == 3, "Sampled resources not all checked; sampler log: " + string.Join(" | ", host.Logs.Lines.Where(l => l.Contains("ample", StringComparison.Ordinal))));
        Assert.Equal(("N85001", 1, 3, 2), (report.OdsCode, report.AnswersSampled, report.ResourcesChecked, report.ResourcesConformant));
        Assert.Equal(0.6667, report.ShareConformant);
        var problem = Assert.Single(report.MostFrequentProblems, p => p.Severity == "error");
        Assert.Equal(("Condition", "Condition", "[1028] Missing required member: '…'", 1L), (problem.ResourceType, problem.Location, problem.Rule, problem.Count));
    }

    [Fact]
    public async Task RecordRead_CombinedRecord_ConformsToWcrRecordBundle()
    {
        // Arrange
        var allergy = ClinicalData.Allergy("a1", "gp-1");
        allergy.ClinicalStatus = new CodeableConcept("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active");
        _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"), allergy, ClinicalData.Medication("m1", "gp-1"));
        using var host = new GatewayHost(_issuer, [_gp]);
        using var read = await host.CreateClient(_issuer.CreateToken()).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");
        var bundle = await FhirAssert.ReadAsync<Bundle>(read, HttpStatusCode.OK);

        // Act
        var outcome = Definitions.Engine.Validate(bundle, Definitions.Wirral + "WCR-RecordBundle");
        var provenance = Definitions.Engine.Validate(bundle.Entry.Select(e => e.Resource).OfType<Provenance>().Single(), null);

        // Assert
        Assert.True(outcome.Success, outcome.Errors().Describe());
        Assert.True(provenance.Success, provenance.Errors().Describe());
    }

    [Fact]
    public async Task DataQuality_OtherRoles_Refused403()
    {
        // Arrange
        using var host = new GatewayHost(_issuer, [_gp]);

        // Act and Assert
        foreach (var role in new[] { "Clinician", "Auditor", "Operator" })
        {
            using var response = await host.CreateClient(_issuer.CreateToken(role: role)).GetAsync("/admin/organisations/N85001/data-quality");
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }
    }

    [Fact]
    public async Task DataQuality_UnknownOrganisation_404ProblemDetails()
    {
        // Arrange
        using var host = new GatewayHost(_issuer, [_gp]);

        // Act
        var detail = await host.CreateClient(_issuer.CreateToken(role: "OnboardingAdmin")).GetAsync("/admin/organisations/X99999/data-quality").RefusedAsync(HttpStatusCode.NotFound);

        // Assert
        Assert.Equal("Organisation X99999 is not in the registry.", detail);
    }

    [Fact]
    public async Task DataQuality_NothingSampledYet_ZeroFiguresAndTheRate()
    {
        // Arrange
        using var host = new GatewayHost(_issuer, [_gp]);

        // Act
        var report = await host.CreateClient(_issuer.CreateToken(role: "OnboardingAdmin")).GetAsync("/admin/organisations/N85001/data-quality").ExpectAsync<DataQualityReport>(HttpStatusCode.OK);

        // Assert
        Assert.Equal((0L, 0L, (double?)null, 0.05), (report.ResourcesChecked, report.AnswersSampled, report.ShareConformant, report.SampleShare));
        Assert.Empty(report.MostFrequentProblems);
    }

    [Fact]
    public async Task Offer_Bytes_ValidatedInTheBackgroundFromACopy()
    {
        // Arrange
        var (sampler, figures) = Sampler(share: 1);
        var patient = FhirSource.NewPatient("p1", Nhs);
        patient.BirthDate = null;
        var answer = FhirJson.SerializeToUtf8(new Bundle { Type = Bundle.BundleType.Searchset, Entry = [new() { Resource = patient }, new() { Resource = new OperationOutcome() }] });
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await sampler.StartAsync(cancel.Token);

        // Act: the caller's buffer is reused at once, as a pooled buffer would be.
        sampler.Offer("RBL", answer);
        Array.Clear(answer);
        await sampler.DrainAsync(cancel.Token);
        await sampler.StopAsync(cancel.Token);

        // Assert: the Patient was checked (the OperationOutcome is not source data).
        var report = figures.Report("RBL", 1);
        Assert.Equal((1L, 1L, 0L), (report.AnswersSampled, report.ResourcesChecked, report.ResourcesConformant));
        Assert.Equal(("Patient", "Patient", "[1028] Missing required member: '…'"), (report.MostFrequentProblems[0].ResourceType, report.MostFrequentProblems[0].Location, report.MostFrequentProblems[0].Rule));
    }

    [Fact]
    public void Offer_QueueFull_DropsAndCounts()
    {
        // Arrange: the worker is not running, so nothing leaves the queue of one.
        var (sampler, figures) = Sampler(share: 1, capacity: 1);

        // Act
        for (var i = 0; i < 5; i++)
        {
            sampler.Offer("RBL", """{"resourceType":"Patient","id":"p1"}"""u8);
        }

        // Assert
        Assert.Equal(4, figures.SamplesDropped);
    }

    [Fact]
    public async Task Offer_PastTheByteBudget_DroppedBeforeCopyingAndTheBlocksComeBack()
    {
        // Arrange: room for three 64 KB blocks; each answer needs two. The worker is not running yet.
        var (sampler, figures) = Sampler(share: 1, capacity: 100, maxBytes: 3 * 64 * 1024, sampleMaxBytes: 100 * 1024);
        var answer = FhirJson.SerializeToUtf8(PatientsBundle(count: 400));
        Assert.InRange(answer.Length, 64 * 1024 + 1, 100 * 1024);

        // Act
        for (var i = 0; i < 10; i++)
        {
            sampler.Offer("RBL", answer);
        }

        // Assert: one copy held; the other nine were refused without taking a block.
        Assert.Equal((9L, 2L * 64 * 1024), (figures.SamplesDropped, sampler.HeldBytes));

        // Act: the worker validates the one it holds.
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await sampler.StartAsync(cancel.Token);
        await sampler.DrainAsync(cancel.Token);
        await sampler.StopAsync(cancel.Token);

        // Assert: every resource of the two-block copy was read (some cross the blocks' boundary), and the blocks are back.
        var report = figures.Report("RBL", 1);
        Assert.Equal((1L, 400L, 0L), (report.AnswersSampled, report.ResourcesChecked, sampler.HeldBytes));
    }

    [Fact]
    public async Task Offer_ContributedResourcesOverManyBlocks_EachCheckedOnce()
    {
        // Arrange: what a source contributed to a read, bigger than one block, with an OperationOutcome among them.
        var (sampler, figures) = Sampler(share: 1);
        var resources = PatientsBundle(count: 300).Entry.Select(e => (ReadOnlyMemory<byte>)FhirJson.SerializeToUtf8(e.Resource!)).ToList();
        resources.Insert(150, """{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational"}]}"""u8.ToArray());
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await sampler.StartAsync(cancel.Token);

        // Act
        sampler.Offer("RBL", resources);
        await sampler.DrainAsync(cancel.Token);
        await sampler.StopAsync(cancel.Token);

        // Assert: the OperationOutcome is not source data; every other resource is checked once.
        var report = figures.Report("RBL", 1);
        Assert.Equal((1L, 300L, 0L, 0L), (report.AnswersSampled, report.ResourcesChecked, figures.SamplesDropped, sampler.HeldBytes));
    }

    [Fact]
    public void Gateway_SampleQueueSmallerThanTheLargestSample_RefusesToStart()
    {
        // Arrange
        using var host = new GatewayHost(_issuer, [_gp], settings: new() { ["Validation:SampleMaxBytes"] = "4194304", ["Validation:SampleQueueMaxBytes"] = "1048576" });

        // Act
        var error = Record.Exception(() => host.CreateClient(token: null));

        // Assert
        Assert.NotNull(error);
        Assert.Contains("Validation:SampleQueueMaxBytes (1048576) must be at least Validation:SampleMaxBytes (4194304) plus 64 KB", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Offer_ShareZero_NothingQueued()
    {
        // Arrange
        var (sampler, figures) = Sampler(share: 0, capacity: 1);

        // Act
        for (var i = 0; i < 5; i++)
        {
            sampler.Offer("RBL", """{"resourceType":"Patient","id":"p1"}"""u8);
            sampler.Offer("RBL", [(ReadOnlyMemory<byte>)"""{"resourceType":"Patient","id":"p1"}"""u8.ToArray()]);
        }

        // Assert: nothing was chosen, so the queue never filled.
        Assert.Equal(0, figures.SamplesDropped);
    }

    [Fact]
    public void Offer_ShareOfAnswers_ChoosesAboutThatShare()
    {
        // Arrange: a queue big enough to hold whatever is chosen; the worker is not running.
        var (sampler, figures) = Sampler(share: 0.1, capacity: 100);

        // Act: 2,000 offers; whatever exceeds the 100 places is dropped, so drops + 100 = chosen.
        for (var i = 0; i < 2000; i++)
        {
            sampler.Offer("RBL", """{"resourceType":"Patient","id":"p1"}"""u8);
        }

        // Assert: 10% is 200 chosen, ±60 (about 5 standard deviations).
        Assert.InRange(figures.SamplesDropped + 100, 140, 260);
    }

    [Theory]
    [InlineData("Value '1970-13-45' does not match regex '([0-9]...)'", "[1006] Value '…' does not match regex '…'")]
    [InlineData("Value 'Jones' is not exactly equal to fixed value 'Smith'", "[1006] Value '…' is not exactly equal to fixed value '…'")]
    [InlineData("Instance failed constraint wcr-pat-1 \"An NHS number is 10 digits, without spaces.\" (for slice nhsNumber)", "[1006] Instance failed constraint wcr-pat-1 \"An NHS number is 10 digits, without spaces.\" (for slice nhsNumber)")]
    [InlineData("Referenced resource 'Practitioner/9000000009' is of type 'Practitioner'", "[1006] Referenced resource '…' is of type '…'")]
    [InlineData("Unable to resolve reference to extension 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-RcordingSetting'.", "[1006] Unable to resolve reference to extension 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-RcordingSetting'.")]
    [InlineData("Patient number 9000000009 was not found", "[1006] Patient number # was not found")]
    public void Rule_FirelyMessage_KeepsTheRuleNeverTheValue(string message, string expected)
    {
        // Arrange
        var issue = new OperationOutcome.IssueComponent { Severity = OperationOutcome.IssueSeverity.Error, Details = new CodeableConcept("http://hl7.org/fhir/dotnet-api-operation-outcome", "1006") { Text = message } };

        // Act
        var rule = DataQualityFigures.Rule(issue);

        // Assert
        Assert.Equal(expected, rule);
        Assert.DoesNotContain("9000000009", rule, StringComparison.Ordinal);
    }

    [Fact]
    public void Location_ListPositions_Removed()
    {
        // Act
        var location = DataQualityFigures.Location(new OperationOutcome.IssueComponent { Expression = ["Patient.identifier[0].value[0]"] }, "Patient");

        // Assert
        Assert.Equal("Patient.identifier.value", location);
    }

    public void Dispose()
    {
        _gp.Dispose();
        _issuer.Dispose();
    }

    private static CancellationToken TestContext() => new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token;

    private static Bundle PatientsBundle(int count) => new()
    {
        Type = Bundle.BundleType.Searchset,
        Entry = [.. Enumerable.Range(0, count).Select(i => new Bundle.EntryComponent { Resource = FhirSource.NewPatient($"p{i}", Nhs) })],
    };

    private static (SourceAnswerSampler Sampler, DataQualityFigures Figures) Sampler(double share, int capacity = 64, long maxBytes = 8 * 1024 * 1024, int sampleMaxBytes = 4 * 1024 * 1024)
    {
        var options = Options.Create(new ValidationOptions
        {
            SampleShare = share,
            SampleQueueCapacity = capacity,
            SampleQueueMaxBytes = maxBytes,
            SampleMaxBytes = sampleMaxBytes,
            SampleMaxCpuShare = 1,
            ProfilesPath = Definitions.Profiles,
        });
        var figures = new DataQualityFigures(TimeProvider.System);
        return (new SourceAnswerSampler(new ProfileLibrary(options, NullLogger<ProfileLibrary>.Instance), figures, options, NullLogger<SourceAnswerSampler>.Instance), figures);
    }
}
