using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Tests.Common;

/// <summary>What ties an answer a client saw to the AuditEvent written for it: the correlation id.</summary>
public static class AuditCorrelation
{
    /// <summary>The correlation id the gateway put on its answer (<see cref="HostingFeature.CorrelationHeader"/>).</summary>
    public static string RequestId(this HttpResponseMessage response) =>
        response.Headers.TryGetValues(HostingFeature.CorrelationHeader, out var values) ? values.Single() : throw new InvalidOperationException(
            $"The answer ({(int)response.StatusCode}) carries no {HostingFeature.CorrelationHeader} header.");

    /// <summary>The correlation id the AuditEvent records in its query entity, or null for an event without one.</summary>
    public static string? CorrelationId(this AuditEvent auditEvent) =>
        auditEvent.Entity.SelectMany(e => e.Detail).FirstOrDefault(d => d.Type == "correlation-id")?.Value is FhirString id ? id.Value : null;
}
