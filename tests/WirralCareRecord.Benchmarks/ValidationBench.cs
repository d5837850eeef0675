using System.Diagnostics;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Validation;

namespace WirralCareRecord.Benchmarks;

/// <summary>
/// Validation cost per resource with Firely.Fhir.Validation (warm, one thread), and the background sampler's CPU
/// at its default rate: the worker's busy time per answer offered.
/// </summary>
internal static class ValidationBench
{
    public static async Task<Dictionary<string, double>> RunAsync(BenchPlan plan, BenchResults results)
    {
        var figures = new Dictionary<string, double>();
        var profiles = ValidationOptions.DefaultFolder("profiles");

        var cold = Stopwatch.StartNew();
        var validation = FirelyValidation.For(profiles, ValidationOptions.Conformance);
        validation.WarmUp();
        figures["validation_first_result_s"] = Math.Round(cold.Elapsed.TotalSeconds, 2);

        // What the definitions cost a gateway's heap: a set-up of its own, loaded and warmed as at start-up, between two
        // full collections (the SDK's model tables, shared by every set-up, were loaded by the one above, so are not counted).
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var loading = Stopwatch.StartNew();
        var own = FirelyValidation.Create(profiles, ValidationOptions.Conformance);
        own.WarmUp();
        figures["validation_definitions_load_s"] = Math.Round(loading.Elapsed.TotalSeconds, 2);
        figures["validation_definitions_heap_mb"] = Math.Round((GC.GetTotalMemory(forceFullCollection: true) - heapBefore) / 1048576.0, 1);
        GC.KeepAlive(own);
        results.Log($"validation: first result {figures["validation_first_result_s"]} s from cold; a second set-up's definitions, loaded and the Wirral profiles compiled in {figures["validation_definitions_load_s"]} s, hold {figures["validation_definitions_heap_mb"]} MB of managed heap");

        var patient = new Patient
        {
            Id = "p1",
            Identifier = [new Identifier("https://fhir.nhs.uk/Id/nhs-number", "9000000009")],
            Name = [new HumanName { Family = "Jones", Given = ["Sarah"] }],
            BirthDate = "1958-03-14",
            Gender = AdministrativeGender.Female,
        };
        var condition = new Condition
        {
            Id = "c1",
            ClinicalStatus = new CodeableConcept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active"),
            Code = new CodeableConcept("http://snomed.info/sct", "44054006", "Type 2 diabetes mellitus"),
            Subject = new ResourceReference("Patient/p1"),
            RecordedDate = "2024-05-01",
        };
        var rounds = plan.Quick ? 200 : 1000;
        figures["validation_patient_us"] = Best(() => validation.Validate(patient), rounds);
        figures["validation_condition_us"] = Best(() => validation.Validate(condition), rounds);

        // The sampler at its default share: offers of a Patient plus 10 conditions, the worker validating what it picks.
        var options = Options.Create(new ValidationOptions { ProfilesPath = profiles });
        var quality = new DataQualityFigures(TimeProvider.System);
        using var sampler = new SourceAnswerSampler(new ProfileLibrary(options, NullLogger<ProfileLibrary>.Instance), quality, options, NullLogger<SourceAnswerSampler>.Instance);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await sampler.StartAsync(cancel.Token);
        IReadOnlyList<ReadOnlyMemory<byte>> answer = [FhirJson.SerializeToUtf8(patient), .. Enumerable.Range(0, 10).Select(_ => (ReadOnlyMemory<byte>)FhirJson.SerializeToUtf8(condition))];
        var offers = plan.Quick ? 4000 : 20000;
        var offering = Stopwatch.StartNew();
        for (var i = 0; i < offers; i++)
        {
            sampler.Offer("BENCH", answer);
        }

        var offerTime = offering.Elapsed;
        await sampler.DrainAsync(cancel.Token);
        await sampler.StopAsync(cancel.Token);
        figures["sampler_default_share"] = options.Value.SampleShare;
        figures["sampler_offer_ns"] = Math.Round(offerTime.TotalMilliseconds * 1e6 / offers, 0);
        figures["sampler_cpu_us_per_answer_offered"] = Math.Round(sampler.BusyTime.TotalMilliseconds * 1000 / offers, 1);
        figures["sampler_answers_validated"] = sampler.Processed;
        figures["sampler_dropped"] = quality.SamplesDropped;
        results.Log($"validation: Patient {figures["validation_patient_us"]} µs, Condition {figures["validation_condition_us"]} µs; sampler at {options.Value.SampleShare:P0}: {figures["sampler_cpu_us_per_answer_offered"]} µs CPU per 11-resource answer offered, {figures["sampler_offer_ns"]} ns on the read path per offer; {quality.SamplesDropped} dropped");
        return figures;
    }

    private static double Best(Action action, int rounds)
    {
        var best = double.MaxValue;
        for (var batch = 0; batch < 5; batch++)
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < rounds / 5; i++)
            {
                action();
            }

            best = Math.Min(best, clock.Elapsed.TotalMilliseconds * 1000 / (rounds / 5));
        }

        return Math.Round(best, 0);
    }
}
