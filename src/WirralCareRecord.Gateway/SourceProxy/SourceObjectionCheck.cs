using System.Net.Http.Headers;
using System.Text.Json;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.SourceProxy;

/// <summary>
/// Objections apply to single-source reads as much as to the federated read. A source answer carries patients
/// (a Patient read or search) or items that reference a patient by id; the patients' NHS numbers are checked against
/// the objection list, looking the patient up at the source when the answer does not include it.
/// </summary>
internal sealed class SourceObjectionCheck(IOrganisationRegistry registry, IHttpClientFactory httpClientFactory)
{
    /// <summary>The objection that covers someone in <paramref name="resource"/>; throws when a referenced patient cannot be established.</summary>
    public async Task<Objection?> FindAsync(Resource resource, string sourceBase, string correlationId, CancellationToken cancellationToken)
    {
        var snapshot = registry.Current;
        if (snapshot.Objections.Count == 0)
        {
            return null;
        }

        var resources = resource is Bundle bundle ? bundle.Entry.Select(e => e.Resource).OfType<Resource>().ToList() : [resource];
        var patients = resources.OfType<Patient>().ToList();
        var known = patients.Select(p => p.Id).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var referenced = resources
            .Select(r => PatientId(RecordSafety.PatientReferenceOf(r)?.Reference, sourceBase))
            .OfType<string>()
            .Where(id => !known.Contains(id))
            .Distinct(StringComparer.Ordinal);
        foreach (var id in referenced)
        {
            patients.Add(await ReadPatientAsync($"{sourceBase}/Patient/{Uri.EscapeDataString(id)}", correlationId, cancellationToken));
        }

        return patients
            .SelectMany(p => p.Identifier.Where(i => i.System == NhsNumber.System))
            .Select(i => NhsNumber.Check(i.Value))
            .Where(c => c.IsValid)
            .Select(c => snapshot.ObjectionFor(c.Value!))
            .FirstOrDefault(o => o is not null);
    }

    private async Task<Patient> ReadPatientAsync(string url, string correlationId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(FhirJson.MediaType));
        request.Headers.Add("X-Request-ID", correlationId);
        using var response = await httpClientFactory.CreateClient(FhirSourceClient.HttpClientName).SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new SourceFailureException(SourceOutcome.Failed, "could not confirm whose record this is");
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        return await JsonSerializer.DeserializeAsync<Resource>(body, FhirJson.Lenient, cancellationToken) as Patient
            ?? throw new SourceFailureException(SourceOutcome.Unreadable, "could not confirm whose record this is");
    }

    private static string? PatientId(string? reference, string sourceBase)
    {
        if (string.IsNullOrEmpty(reference))
        {
            return null;
        }

        var relative = reference.StartsWith(sourceBase + "/", StringComparison.OrdinalIgnoreCase) ? reference[(sourceBase.Length + 1)..] : reference;
        var parts = relative.Split('/');
        return parts.Length >= 2 && parts[0] == "Patient" && !relative.Contains("://", StringComparison.Ordinal) ? parts[1] : null;
    }
}
