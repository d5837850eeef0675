extern alias demo;

using System.Text;
using System.Text.Json;
using demo::WirralCareRecord.Demo.Population;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.SourceAnswers;
using WirralCareRecord.Gateway.Tests.Validation;

namespace WirralCareRecord.Gateway.Tests.Federation;

/// <summary>
/// The combined record written from bytes (<see cref="RecordBundleBuilder.Write"/>) against the same record built with
/// the Firely SDK's objects (<see cref="SdkRecordBundle"/>), entry by entry: the demo population, every UK Core example,
/// and answers shaped to exercise each rewriting and linking rule. The SDK stays the authority on what the JSON means.
/// </summary>
public sealed class StreamedRecordDifferentialTests
{
    private const string GatewayBase = "https://gateway.example.nhs.uk";
    private const string SelfUrl = GatewayBase + "/fhir/Patient/$wcr-getrecord?patientNHSNumber=9000000009";
    private static readonly SourceBufferPool Buffers = new(64 * 1024 * 1024, TimeSpan.Zero);
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 10, 30, 15, 123, TimeSpan.Zero);

    [Fact]
    public void DemoPopulation_EveryPersonsRecord_IsTheSdkBuiltRecord()
    {
        var compared = 0;
        foreach (var person in SyntheticPopulation.People)
        {
            // Arrange: each source holding the person, as the demo serves them.
            var sources = SyntheticPopulation.Organisations
                .Where(o => person.IsHeldBy(o.OdsCode))
                .Select(o => (Source: Organisation(o.OdsCode, o.Name, $"http://{o.OdsCode.ToLowerInvariant()}.demo.example:8080/fhir"), Resources: SyntheticPopulation.RecordsFor(o.OdsCode, [person])))
                .Where(s => s.Resources.Count > 0)
                .Select(s => (s.Source, (Patient)s.Resources[0], s.Resources.Skip(1).Select(FhirJson.SerializeToUtf8).ToList()))
                .ToList();
            if (sources.Count == 0)
            {
                continue;
            }

            // Act + Assert
            AssertStreamedEqualsSdk(sources);
            compared++;
        }

        Assert.True(compared >= 20, $"only {compared} demo people compared");
    }

    [Fact]
    public void UkCoreExamples_AllOfThem_AreTheSdkBuiltRecord()
    {
        // Arrange: every UK Core example that is not a Patient or a Bundle as one source's record, and every other one
        // again at a second source, so same items are linked across sources too.
        var examples = Definitions.UkCoreExamples();
        var patient = examples.OfType<Patient>().First(p => !string.IsNullOrEmpty(p.Id));
        var items = examples.Where(r => r is not Patient and not Bundle && !string.IsNullOrEmpty(r.Id)).Select(FhirJson.SerializeToUtf8).ToList();
        Assert.True(items.Count > 150, $"only {items.Count} examples");

        // Act + Assert
        AssertStreamedEqualsSdk(
        [
            (Organisation("N85001", "Riverside Medical Centre", "https://gp.example.org/fhir"), patient, items),
            (Organisation("RBL", "Wirral University Teaching Hospital", "https://ehr.wuth.example/R4"), (Patient)patient.DeepCopy(), [.. items.Where((_, i) => i % 2 == 1)]),
        ]);
    }

    [Fact]
    public void HostileShapes_AddressesMetaAndLinks_AreTheSdkBuiltRecord()
    {
        // Arrange: what careless sources send: escaped and mixed-case addresses, root-based and embedded ones, an
        // existing meta.source and _source, tags and labels, contained resources with their own meta, resourceType
        // last, and items the same as the other source's in every way the linker recognises.
        const string gp = "http://gp.example:8080/fhir";
        const string hospital = "https://ehr.hospital.example/fhir/R4";
        List<byte[]> gpItems =
        [
            Json("""{"resourceType":"Condition","id":"c1","meta":{"versionId":"3","source":"http://gp.example:8080/internal","_source":{"extension":[{"url":"http://x.example/e","valueString":"v"}]},"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]},"subject":{"reference":"http://gp.example:8080/fhir/Patient/p1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003"}]},"note":[{"text":"See http://gp.example:8080/fhir/Binary/7 and HTTP://GP.EXAMPLE:8080/other?x=1 or http://gp.example:8080"}]}"""),
            Json("""{"resourceType":"AllergyIntolerance","id":"a1","patient":{"reference":"http:\/\/gp.example:8080\/fhir\/Patient\/p1"},"code":{"text":"caf\u00e9 \u2013 penicillin","coding":[{"display":"no system"},{"system":"http://snomed.info/sct","code":"91936005"}]},"meta":{"tag":[{"system":"http://x.example/tags","code":"t1"}]}}"""),
            Json("""{"id":"o1","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"effectiveDateTime":"2026-11-03T09:15:00Z","valueQuantity":{"value":120.50,"unit":"mmHg"},"status":"final","resourceType":"Observation"}"""),
            Json("""{"resourceType":"Observation","id":"o2","status":"final","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"effectiveInstant":"2026-11-03T09:15:00Z"}"""),
            Json("""{"resourceType":"Immunization","id":"i1","status":"completed","patient":{"reference":"Patient/p1"},"vaccineCode":{"coding":[{"system":"http://snomed.info/sct","code":"39114911000001105"}]},"occurrenceDateTime":"2026-10-01"}"""),
            Json("""{"resourceType":"Immunization","id":"i2","status":"completed","patient":{"reference":"Patient/p1"},"vaccineCode":{"coding":[{"system":"http://snomed.info/sct","code":"39114911000001105"}]},"occurrenceString":"last autumn"}"""),
            Json("""{"resourceType":"MedicationStatement","id":"m1","status":"active","subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"coding":[{"system":"https://dmd.nhs.uk","code":"39720311000001101"}]},"contained":[{"resourceType":"Medication","id":"med","meta":{"source":"http://gp.example:8080/fhir/Medication/x"}}]}"""),
            Json("""{"resourceType":"Encounter","id":"e1","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/p1"},"period":{"start":"2026-11-20T10:00:00Z"},"serviceProvider":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"N85001"}}}"""),
            Json("""{"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"application/pdf","url":"http://gp.example:8080/Binary/root-based"}}],"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><a href=\"http://gp.example:8080/fhir/Binary/9\">letter</a></div>"}}"""),
            Json("""{"resourceType":"Procedure","id":"pr1","status":"completed","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"80146002"}]},"performedPeriod":{"start":"2025-06-02T08:00:00Z","end":"2025-06-02T10:00:00Z"}}"""),
        ];
        List<byte[]> hospitalItems =
        [
            Json("""{"resourceType":"AllergyIntolerance","id":"ha1","patient":{"reference":"Patient/h1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"91936005"}]}}"""),
            Json("""{"resourceType":"Observation","id":"ho1","status":"final","subject":{"reference":"Patient/h1"},"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"effectivePeriod":{"start":"2026-11-03"}}"""),
            Json("""{"resourceType":"Immunization","id":"hi1","status":"completed","patient":{"reference":"Patient/h1"},"vaccineCode":{"coding":[{"system":"http://snomed.info/sct","code":"39114911000001105"}]},"occurrenceDateTime":"2026-10-01T14:00:00+01:00"}"""),
            Json("""{"resourceType":"MedicationRequest","id":"hm1","status":"active","intent":"order","subject":{"reference":"Patient/h1"},"medicationCodeableConcept":{"coding":[{"system":"https://dmd.nhs.uk","code":"39720311000001101"}]}}"""),
            Json("""{"resourceType":"Encounter","id":"he1","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/h1"},"period":{"start":"2026-11-20"}}"""),
            Json("""{"resourceType":"Condition","id":"hc1","subject":{"reference":"https://ehr.hospital.example/fhir/R4/Patient/h1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003"}]},"meta":{"lastUpdated":"2026-11-01T00:00:00Z","tag":[{"system":"http://x.example/tags","code":"t2"}]}}"""),
            Json("""{"resourceType":"Procedure","id":"hp1","status":"completed","subject":{"reference":"Patient/h1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"80146002"}]},"performedDateTime":"2025-06-02"}"""),
        ];

        // Act + Assert
        AssertStreamedEqualsSdk(
        [
            (Organisation("N85001", "Riverside Medical Centre", gp), new Patient { Id = "p1", Link = [new Patient.LinkComponent { Type = Patient.LinkType.Seealso, Other = new ResourceReference("http://gp.example:8080/fhir/Patient/p0") }] }, gpItems),
            (Organisation("RBL", "Wirral University Teaching Hospital", hospital), new Patient { Id = "h1", Meta = new Meta { Source = "urn:x" } }, hospitalItems),
        ]);
    }

    [Fact]
    public void SameItemLinks_AreMadeAndNumberedAsTheSdkBuilderDid()
    {
        // Arrange: the allergy at both sources, the condition at one only.
        var gp = (Organisation("N85001", "Riverside Medical Centre", "http://gp.example/fhir"), new Patient { Id = "p1" }, new List<byte[]>
        {
            Json("""{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"1"}]}}"""),
            Json("""{"resourceType":"AllergyIntolerance","id":"a1","patient":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"91936005"}]}}"""),
        });
        var hospital = (Organisation("RBL", "Wirral University Teaching Hospital", "http://ehr.example/fhir"), new Patient { Id = "h1" }, new List<byte[]>
        {
            Json("""{"resourceType":"AllergyIntolerance","id":"a9","patient":{"reference":"Patient/h1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"91936005"}]}}"""),
        });

        // Act
        var streamed = Streamed([gp, hospital]);

        // Assert: the two allergies share one tag naming both sources; the condition has none.
        var tags = streamed.Entry.Select(e => e.Resource).OfType<AllergyIntolerance>().Select(a => a.Meta.Tag.Single(t => t.System == SameItemLinker.TagSystem)).ToList();
        Assert.Equal(2, tags.Count);
        Assert.All(tags, t => Assert.Equal(("same-1", "Same item recorded by N85001, RBL"), (t.Code, t.Display)));
        Assert.DoesNotContain(streamed.Entry.Select(e => e.Resource).OfType<Condition>().Single().Meta.Tag, t => t.System == SameItemLinker.TagSystem);
        AssertStreamedEqualsSdk([gp, hospital]);
    }

    private static void AssertStreamedEqualsSdk(List<(Organisation Source, Patient Patient, List<byte[]> Items)> sources)
    {
        var streamed = Normalise(Streamed(sources));
        var sdk = Normalise(SdkRecordBundle.Build(
            [.. sources.Select(s => (Result(s.Source, (Patient)s.Patient.DeepCopy(), KeptResources.None), s.Items.Select(b => JsonSerializer.Deserialize<Resource>(b, FhirJson.Lenient)!).ToList()))],
            GatewayBase,
            SelfUrl,
            Now));

        Assert.Equal(sdk.Entry.Count, streamed.Entry.Count);
        for (var i = 0; i < sdk.Entry.Count; i++)
        {
            Assert.Equal(sdk.Entry[i].FullUrl, streamed.Entry[i].FullUrl);
            Assert.Equal(Text(sdk.Entry[i]), Text(streamed.Entry[i]));
        }

        Assert.Equal(Text(sdk), Text(streamed));
    }

    private static Bundle Streamed(List<(Organisation Source, Patient Patient, List<byte[]> Items)> sources)
    {
        var results = sources.Select(s =>
        {
            // As the federated read keeps them: facts from one scanner per source, parts in the kept resources' arena.
            var kept = new KeptResources(Buffers);
            using var scanner = FactsScanner.Rent();
            foreach (var item in s.Items)
            {
                var facts = scanner.Scan(item, new RestrictedLabels([]));
                kept.Add(item, ItemFacts.Read(item, facts.ResourceType!, facts.Id!, kept.Parts) ?? throw new InvalidOperationException($"{facts.ResourceType}/{facts.Id}: meta not accepted"));
            }

            return Result(s.Source, (Patient)s.Patient.DeepCopy(), kept);
        }).ToList();
        using var output = new PooledBufferWriter(Buffers);
        RecordBundleBuilder.Write(results, GatewayBase, SelfUrl, Now, null, output);
        var bytes = output.ToArray();
        foreach (var result in results)
        {
            result.Items.Dispose();
        }

        // The streamed record must be JSON the SDK reads strictly, not only leniently.
        return JsonSerializer.Deserialize<Bundle>(bytes, FhirJson.Strict)!;
    }

    private static SourceResult Result(Organisation source, Patient patient, KeptResources items) =>
        new(new SourceGrant(source, new HashSet<string>(), ["WCR-DSA-1", "WCR-DSA-2"]), SourceOutcome.Returned, patient, items, Now, null, 0, 1);

    private static Organisation Organisation(string odsCode, string name, string baseUrl) =>
        new(odsCode, name, OrganisationKind.GpPractice, new Uri(baseUrl), 1, LifecycleState.Live);

    /// <summary>Only what is random per build (ids of the Bundle, Provenances and OperationOutcome) is made equal.</summary>
    private static Bundle Normalise(Bundle bundle)
    {
        bundle.Id = "bundle";
        bundle.Meta = null;
        bundle.Timestamp = null;
        for (var i = 0; i < bundle.Entry.Count; i++)
        {
            var entry = bundle.Entry[i];
            if (entry.Resource is Provenance or OperationOutcome)
            {
                entry.Resource.Id = $"generated-{i}";
                entry.FullUrl = $"urn:uuid:generated-{i}";
            }

            if (entry.Resource is Provenance provenance)
            {
                provenance.Recorded = provenance.Recorded?.ToUniversalTime();
            }
        }

        return bundle;
    }

    private static string Text(Resource resource) => Encoding.UTF8.GetString(FhirJson.SerializeToUtf8(resource));

    private static string Text(Bundle.EntryComponent entry) => $"{entry.FullUrl} {entry.Search?.Mode} {Text(entry.Resource!)}";

    private static byte[] Json(string json) => Encoding.UTF8.GetBytes(json);
}
