using Hl7.Fhir.Model;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>What the demographics service said about an NHS number.</summary>
/// <param name="Patient">Its Patient carrying the NHS number; null when it had none or did not answer usably. Patient-identifiable.</param>
/// <param name="Practices">The registered practices' ODS codes; null when it did not answer usably.</param>
public sealed record DemographicsAnswer(Patient? Patient, IReadOnlyList<string>? Practices);

/// <summary>
/// The optional demographics service (an NHS PDS-compatible FHIR API): the patient as the national index holds them,
/// and the practice they are registered with (<c>Patient.generalPractitioner[].identifier</c>, ODS). The locator asks
/// it which practice to ask; corroboration asks it to settle sources that disagree 1:1 on who the patient is. It never
/// fails a read.
/// </summary>
internal sealed partial class DemographicsService(IHttpClientFactory httpClientFactory, IOptions<LocatorOptions> options, SourceAnswers.SourceBufferPool buffers, ILogger<DemographicsService> logger)
{
    public const string HttpClientName = "demographics-service";

    /// <summary>
    /// Marks requests whose URL path holds an NHS number (<c>/Patient/{nhsNumber}</c>, as PDS reads), so the HTTP
    /// client's trace instrumentation leaves them out of spans, which must never carry patient identifiers.
    /// </summary>
    public static readonly HttpRequestOptionsKey<bool> PathHoldsPatientIdentifier = new("wcr.path-holds-patient-identifier");

    public bool Configured => options.Value.DemographicsServiceUrl is not null;

    /// <summary>
    /// The service's Patient for the NHS number to settle a tie, reusing the answer the locator already had in this read
    /// (<see cref="SourcePlan.Service"/>), so a read asks the service at most once. Null when not configured or no answer.
    /// </summary>
    public async Task<Patient?> PatientForReadAsync(SourcePlan plan, string nhsNumber, string correlationId, CancellationToken cancellationToken) =>
        plan.Service is { } asked ? asked.Patient : (await LookUpAsync(nhsNumber, correlationId, cancellationToken))?.Patient;

    /// <summary>
    /// The service's Patient and the registered practices' ODS codes; null when the service is not configured, and
    /// an answer holding nulls when it did not answer usably.
    /// </summary>
    public async Task<DemographicsAnswer?> LookUpAsync(string nhsNumber, string correlationId, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.DemographicsServiceUrl is not { } url)
        {
            return null;
        }

        var baseUrl = url.ToString().TrimEnd('/');
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.DemographicsServiceTimeout);
        try
        {
            var candidates = settings.DemographicsServiceLookup == DemographicsLookup.Read
                ? [await FhirSourceClient.ReadAsync<Patient>(httpClientFactory.CreateClient(HttpClientName), buffers, $"{baseUrl}/Patient/{Uri.EscapeDataString(nhsNumber)}", correlationId, timeout.Token, request => request.Options.Set(PathHoldsPatientIdentifier, true))]
                : (await FhirSourceClient.ReadAsync<Bundle>(httpClientFactory.CreateClient(HttpClientName), buffers, $"{baseUrl}/Patient?identifier={Uri.EscapeDataString(NhsNumber.System + "|" + nhsNumber)}", correlationId, timeout.Token))
                    .Entry.Select(e => e.Resource).OfType<Patient>().ToList();

            // The same rule as for sources: only a Patient carrying the NHS number itself counts (PDS answers a
            // superseded number with the surviving record, which is a different number and not this lookup's answer).
            var match = PatientMatcher.Match(candidates, nhsNumber);
            var practices = match.Patient is { } patient ? FhirSourceClient.RegisteredPracticesOf(patient) : [];
            Log.Answered(logger, practices.Count, correlationId);
            return new DemographicsAnswer(match.Patient, practices);
        }
        catch (Exception ex) when (ex is SourceFailureException or SourceAnswers.SourceBuffersFullException or HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Log.Failed(logger, ex is OperationCanceledException ? "timed out" : ex.Message, correlationId);
            return new DemographicsAnswer(null, null);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 240, Level = LogLevel.Information, Message = "Demographics service named {Practices} registered practice(s) (correlation {CorrelationId})")]
        public static partial void Answered(ILogger logger, int practices, string correlationId);

        [LoggerMessage(EventId = 241, Level = LogLevel.Warning, Message = "Demographics service could not be used ({Reason}); the read goes on without it (correlation {CorrelationId})")]
        public static partial void Failed(ILogger logger, string reason, string correlationId);
    }
}
