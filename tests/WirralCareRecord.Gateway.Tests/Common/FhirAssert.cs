using System.Net;
using System.Text.Json;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Tests.Common;

/// <summary>Reads gateway answers as a FHIR client would.</summary>
public static class FhirAssert
{
    public static async Task<T> ReadAsync<T>(HttpResponseMessage response, HttpStatusCode expected) where T : Resource
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"Expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.StartsWith(FhirJson.MediaType, response.Content.Headers.ContentType?.ToString());
        return Assert.IsType<T>(JsonSerializer.Deserialize<Resource>(body, FhirJson.Strict));
    }

    public static async Task<OperationOutcome> OutcomeAsync(HttpResponseMessage response, HttpStatusCode expected) =>
        await ReadAsync<OperationOutcome>(response, expected);

    public static string Text(this OperationOutcome outcome) => string.Join(" | ", outcome.Issue.Select(i => i.Diagnostics));

    public static OperationOutcome? SourceOutcomes(this Bundle bundle) =>
        bundle.Entry.Where(e => e.Search?.Mode == Bundle.SearchEntryMode.Outcome).Select(e => e.Resource).OfType<OperationOutcome>().SingleOrDefault();

    /// <summary>The per-source issues, without the informational note on which demographics were used.</summary>
    public static IReadOnlyList<OperationOutcome.IssueComponent> SourceIssues(this Bundle bundle) =>
        [.. bundle.SourceOutcomes()?.Issue.Where(i => i.Code != OperationOutcome.IssueType.Informational) ?? []];
}
