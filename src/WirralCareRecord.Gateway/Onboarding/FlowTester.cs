using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.PatientMatching;
using WirralCareRecord.Gateway.Storage;
using WirralCareRecord.Gateway.Validation;

namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>One call of a flow test: what was asked, how long it took, and what was wrong with the answer.</summary>
public sealed record FlowTestStep(string Name, string Request, bool Passed, double Milliseconds, IReadOnlyList<string> Findings);

/// <summary>
/// A flow test's report, kept beside the registry as evidence for promotion. <see cref="DataQuality"/> is this run's
/// data-quality figures, computed as the background sampler's are (<see cref="DataQualityFigures"/>), so onboarding
/// staff read one kind of numbers whether they come from live reads or a flow test; reports stored before it was
/// added have none.
/// </summary>
public sealed record FlowTestReport(string Id, string OdsCode, DateTimeOffset RanAt, string RanBy, bool Passed, IReadOnlyList<FlowTestStep> Steps, DataQualityReport? DataQuality = null)
{
    public string Summary => (Passed
        ? $"All {Steps.Count} steps passed."
        : string.Join(" ", Steps.Where(s => !s.Passed).Select(s => $"{s.Name}: {string.Join("; ", s.Findings)}.")))
        + (DataQuality is { ResourcesChecked: > 0 } quality ? $" Data quality: {quality.ResourcesConformant} of {quality.ResourcesChecked} resources conformant." : "");
}

/// <summary>
/// Tests one organisation's information flow as the gateway will use it: its CapabilityStatement supports the searches
/// the gateway makes, it finds the named test patient by NHS number, and every record search answers with FHIR about
/// that patient that conforms to the Wirral Care Record profiles. Each call is timed; the report is stored and a failure blocks promotion.
/// Every resource validated is counted twice through <see cref="DataQualityFigures"/>: in the run's own figures, which
/// go in the report, and in the gateway's figures for the organisation, which the data-quality endpoint and the
/// onboarding page show (for an organisation not yet live, a flow test is the only source of them).
/// </summary>
internal sealed class FlowTester(IHttpClientFactory httpClientFactory, IBlobStores stores, IFhirValidator validator, DataQualityFigures figures, IOptions<FederationOptions> federation, TimeProvider time)
{
    private const string ReportsPrefix = "flow-tests/";

    public async Task<FlowTestReport> RunAsync(Organisation organisation, string testNhsNumber, string ranBy, CancellationToken cancellationToken)
    {
        var ranAt = time.GetUtcNow();
        var client = httpClientFactory.CreateSourceClient(organisation.OdsCode);
        var timeout = organisation.Timeout ?? federation.Value.SourceTimeout;
        var baseUrl = organisation.FhirBaseUrl.ToString().TrimEnd('/');
        var steps = new List<FlowTestStep>();
        var quality = new Quality(organisation.OdsCode, validator, new DataQualityFigures(time), figures);

        var (capabilityStep, declared) = await CheckCapabilityAsync(client, baseUrl, timeout, cancellationToken);
        steps.Add(capabilityStep);

        // A flow test tests by doing: every search the gateway makes is tried, declared or not, because the federated
        // read tries them too.
        var (patientStep, patientId) = await FindTestPatientAsync(client, baseUrl, testNhsNumber, timeout, quality, cancellationToken);
        steps.Add(patientStep);

        if (patientId is not null)
        {
            foreach (var type in federation.Value.RecordTypes)
            {
                var step = await CheckRecordSearchAsync(client, organisation.FhirBaseUrl, type, patientId, timeout, quality, cancellationToken);
                if (!step.Passed && !declared.Contains(type) && step.Findings is [var only] && only.StartsWith("answered HTTP 4", StringComparison.Ordinal))
                {
                    // Undeclared and refused: the source does not offer it, so the category will not come from it. Not a failure.
                    step = step with { Passed = true, Findings = [$"note: not declared and refused ({only}); {type} will not come from this source"] };
                }

                steps.Add(step);
            }
        }

        var report = new FlowTestReport(
            $"{ranAt.UtcDateTime:yyyyMMdd'T'HHmmssfff'Z'}-{Guid.NewGuid().ToString("N")[..6]}",
            organisation.OdsCode, ranAt, ranBy, steps.TrueForAll(s => s.Passed), steps, quality.Run.Report(organisation.OdsCode, sampleShare: 1));
        await stores[StorageContainer.Registry].WriteAsync(
            $"{ReportsPrefix}{organisation.OdsCode}/{report.Id}.json",
            BinaryData.FromObjectAsJson(report, RegistryDocument.JsonOptions),
            expectedETag: null,
            "application/json",
            cancellationToken);
        return report;
    }

    /// <summary>The organisation's stored reports, newest first.</summary>
    public async Task<IReadOnlyList<FlowTestReport>> ListAsync(string odsCode, CancellationToken cancellationToken)
    {
        var store = stores[StorageContainer.Registry];
        var reports = new List<FlowTestReport>();
        await foreach (var name in store.ListAsync($"{ReportsPrefix}{odsCode}/", cancellationToken))
        {
            if (await store.ReadAsync(name, cancellationToken) is { } blob && blob.Content.ToObjectFromJson<FlowTestReport>(RegistryDocument.JsonOptions) is { } report)
            {
                reports.Add(report);
            }
        }

        return [.. reports.OrderByDescending(r => r.RanAt)];
    }

    private async Task<(FlowTestStep Step, IReadOnlyList<string> Searchable)> CheckCapabilityAsync(HttpClient client, string baseUrl, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var request = $"{baseUrl}/metadata";
        var (capability, milliseconds, findings) = await GetAsync<CapabilityStatement>(client, request, timeout, cancellationToken);
        if (capability is null)
        {
            return (new FlowTestStep("CapabilityStatement", "GET /metadata", false, milliseconds, findings), []);
        }

        if (capability.FhirVersion is not { } version || !version.ToString().Contains("4_0", StringComparison.Ordinal))
        {
            findings.Add($"fhirVersion is {capability.FhirVersion?.ToString() ?? "missing"}; the gateway needs FHIR R4 (4.0.x)");
        }

        var server = capability.Rest.FirstOrDefault(r => r.Mode == CapabilityStatement.RestfulCapabilityMode.Server);
        var resources = server?.Resource ?? [];
        bool Searches(string type, string parameter) =>
            resources.FirstOrDefault(r => r.Type == type) is { } resource
            && resource.Interaction.Any(i => i.Code == CapabilityStatement.TypeRestfulInteraction.SearchType)
            && resource.SearchParam.Any(p => p.Name == parameter);

        var passed = findings.Count == 0;

        // Undeclared searches are warnings, not failures: many systems under-declare; the searches are tried next.
        if (!Searches("Patient", "identifier"))
        {
            findings.Add("warning: Patient search by identifier (NHS number) is not declared; it is tried anyway");
        }

        var searchable = federation.Value.RecordTypes.Where(t => Searches(t, "patient")).ToList();
        var missing = federation.Value.RecordTypes.Except(searchable).ToList();
        if (missing.Count > 0)
        {
            findings.Add($"warning: no search by patient declared for {string.Join(", ", missing)}; each is tried anyway");
        }

        return (new FlowTestStep("CapabilityStatement", "GET /metadata", passed, milliseconds, findings), searchable);
    }

    private static async Task<(FlowTestStep Step, string? PatientId)> FindTestPatientAsync(HttpClient client, string baseUrl, string nhsNumber, TimeSpan timeout, Quality quality, CancellationToken cancellationToken)
    {
        var query = $"Patient?identifier={Uri.EscapeDataString($"{NhsNumber.System}|{nhsNumber}")}";
        var (bundle, milliseconds, findings) = await GetAsync<Bundle>(client, $"{baseUrl}/{query}", timeout, cancellationToken);
        string? patientId = null;
        if (bundle is not null)
        {
            quality.CountAnswer();
            var patients = bundle.Entry.Select(e => e.Resource).OfType<Patient>()
                .Where(p => p.Identifier.Any(i => i.System == NhsNumber.System && i.Value == nhsNumber))
                .ToList();
            if (patients.Count == 1)
            {
                patientId = patients[0].Id;
                findings.AddRange(quality.Nonconformance(patients[0], "Bundle.entry[0]"));
            }
            else
            {
                findings.Add(patients.Count == 0
                    ? "the test patient was not found by NHS number"
                    : $"{patients.Count} patients carry the test patient's NHS number; the gateway needs exactly one");
            }
        }

        // The request is shown without the NHS number: reports are read by people who need not see it.
        return (new FlowTestStep("Test patient", "GET /Patient?identifier=<test patient>", findings.Count == 0, milliseconds, findings), patientId);
    }

    private async Task<FlowTestStep> CheckRecordSearchAsync(HttpClient client, Uri baseUrl, string type, string patientId, TimeSpan timeout, Quality quality, CancellationToken cancellationToken)
    {
        var request = $"{type}?patient={Uri.EscapeDataString(patientId)}&_count={federation.Value.PageSize}";
        var (bundle, milliseconds, findings) = await GetAsync<Bundle>(client, $"{baseUrl.ToString().TrimEnd('/')}/{request}", timeout, cancellationToken);
        if (bundle is not null)
        {
            quality.CountAnswer();
            foreach (var (entry, index) in bundle.Entry.Select((e, i) => (e, i)))
            {
                if (entry.Resource is null || entry.Resource is OperationOutcome)
                {
                    continue;
                }

                if (entry.Resource.TypeName != type)
                {
                    findings.Add($"Bundle.entry[{index}] is a {entry.Resource.TypeName}, not a {type}");
                }
                else if (!RecordSafety.IsAbout(entry.Resource, patientId, baseUrl))
                {
                    findings.Add($"Bundle.entry[{index}] ({type}/{entry.Resource.Id}) is not about the test patient");
                }
                else
                {
                    findings.AddRange(quality.Nonconformance(entry.Resource, $"Bundle.entry[{index}]"));
                }
            }
        }

        return new FlowTestStep($"{type} search", $"GET /{type}?patient=<test patient>", findings.Count == 0, milliseconds, findings);
    }

    /// <summary>
    /// Validates a flow test's resources and counts each outcome in the run's figures and the gateway's, by the same
    /// rules as the sampler (<see cref="DataQualityFigures.Record"/>): a resource conforms when no issue is an error,
    /// which is also what fails a step.
    /// </summary>
    private sealed class Quality(string odsCode, IFhirValidator validator, DataQualityFigures run, DataQualityFigures gateway)
    {
        public DataQualityFigures Run => run;

        public void CountAnswer()
        {
            run.CountAnswer(odsCode);
            gateway.CountAnswer(odsCode);
        }

        /// <summary>
        /// Each error the profiles find in <paramref name="resource"/>, located within the answer, a few at most per item.
        /// The rule is worded as the figures word it (<see cref="DataQualityFigures.Rule"/>): Firely quotes the offending
        /// value, and a report is read by people who need not see even a test patient's data.
        /// </summary>
        public IEnumerable<string> Nonconformance(Resource resource, string location)
        {
            var outcome = validator.Validate(resource);
            run.Record(odsCode, resource.TypeName, outcome);
            gateway.Record(odsCode, resource.TypeName, outcome);
            return [.. outcome.Issue
                .Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal)
                .Take(5)
                .Select(i => $"{location} ({resource.TypeName}/{resource.Id}) does not conform at {string.Join(", ", i.Expression)}: {DataQualityFigures.Rule(i)}")];
        }
    }

    /// <summary>
    /// One timed GET, parsed strictly: a flow test should show every structural problem, where the federated read
    /// tolerates what it safely can.
    /// </summary>
    private static async Task<(T? Resource, double Milliseconds, List<string> Findings)> GetAsync<T>(HttpClient client, string url, TimeSpan timeout, CancellationToken cancellationToken)
        where T : Resource
    {
        var findings = new List<string>();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cancel.CancelAfter(timeout);
        var clock = Stopwatch.StartNew();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(FhirJson.MediaType));
            using var response = await client.SendAsync(request, cancel.Token);
            var body = await response.Content.ReadAsByteArrayAsync(cancel.Token);
            var milliseconds = clock.Elapsed.TotalMilliseconds;
            if (!response.IsSuccessStatusCode)
            {
                findings.Add($"answered HTTP {(int)response.StatusCode}");
                return (null, milliseconds, findings);
            }

            try
            {
                var resource = JsonSerializer.Deserialize<Resource>(body, FhirJson.Strict);
                if (resource is T typed)
                {
                    return (typed, milliseconds, findings);
                }

                findings.Add($"answered with {resource?.TypeName ?? "nothing"} where a {typeof(T).Name} was expected");
            }
            catch (DeserializationFailedException ex)
            {
                findings.AddRange(ex.Exceptions.Take(20).Select(e => $"not valid FHIR: {e.Message}"));
                if (ex.PartialResult is T partial)
                {
                    return (partial, milliseconds, findings);
                }
            }
            catch (JsonException ex)
            {
                findings.Add($"not valid JSON: {ex.Message}");
            }

            return (null, milliseconds, findings);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            findings.Add($"no answer within {timeout.TotalSeconds:0.##} s");
        }
        catch (HttpRequestException ex)
        {
            findings.Add($"could not be reached ({ex.HttpRequestError})");
        }

        return (null, clock.Elapsed.TotalMilliseconds, findings);
    }
}
