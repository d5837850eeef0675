using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>What auditors can ask of the log. For now: every break-glass access in a period, for review.</summary>
internal static class AuditorEndpoints
{
    private const int MaxDays = 366;

    public static IEndpointRouteBuilder MapAuditorEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/audit/break-glass", ListBreakGlassAsync).RequireAuthorization(Policies.Auditor);
        return endpoints;
    }

    private static async Task<FhirResult> ListBreakGlassAsync(IAuditStore store, TimeProvider time, HttpContext context, DateOnly? from = null, DateOnly? to = null)
    {
        var last = to ?? UkDate.Today(time);
        var first = from ?? last.AddDays(-30);
        if (first > last || last.DayNumber - first.DayNumber > MaxDays)
        {
            throw new InvalidRequestException($"Give 'from' on or before 'to', at most {MaxDays} days apart (dates as YYYY-MM-DD).");
        }

        var bundle = new Bundle { Id = Guid.NewGuid().ToString(), Type = Bundle.BundleType.Searchset, Timestamp = time.GetUtcNow() };
        await foreach (var auditEvent in store.ReadAsync(first, last, context.RequestAborted))
        {
            if (auditEvent.PurposeOfEvent.Any(p => p.Coding.Any(c => c.Code == AuditEventFactory.BreakGlass)))
            {
                bundle.Entry.Add(new Bundle.EntryComponent
                {
                    FullUrl = "urn:uuid:" + auditEvent.Id,
                    Resource = auditEvent,
                    Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Match },
                });
            }
        }

        bundle.Total = bundle.Entry.Count;
        return new FhirResult(bundle);
    }
}
