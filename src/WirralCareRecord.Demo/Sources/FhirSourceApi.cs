using System.Globalization;
using Hl7.Fhir.Model;

namespace WirralCareRecord.Demo.Sources;

/// <summary>
/// The FHIR R4 surface of a source system: capability, Patient search by NHS number, paged search of the record
/// types by patient, and read. Only what the gateway needs of a source, answered the way real systems answer it.
/// </summary>
internal static class FhirSourceApi
{
    private const int DefaultPageSize = 50;
    private const int MaximumPageSize = 200;

    public static void MapFhirSource(this IEndpointRouteBuilder app, SourceRecordStore store, DemoSourceOptions options, Func<Uri> baseUrl)
    {
        var fhir = app.MapGroup("/fhir");
        fhir.MapGet("/metadata", () => new FhirResponse(SourceCapability.Create(options, baseUrl())));
        fhir.MapGet("/{type}", (string type, HttpRequest request) => Search(store, options, baseUrl(), type, request.Query));
        fhir.MapGet("/{type}/{id}", (string type, string id) => Read(store, type, id));
        app.MapFallback((HttpRequest request) => FhirResponse.Outcome(StatusCodes.Status404NotFound, OperationOutcome.IssueType.NotSupported,
            $"This source has no endpoint for {request.Method} {request.Path}."));
    }

    private static FhirResponse Read(SourceRecordStore store, string type, string id)
    {
        if (!SourceRecordStore.IsServed(type))
        {
            return UnknownType(type);
        }

        return store.Read(type, id) is { } resource
            ? new FhirResponse(resource)
            : FhirResponse.Outcome(StatusCodes.Status404NotFound, OperationOutcome.IssueType.NotFound, $"{type}/{id} is not known to this source.");
    }

    private static FhirResponse Search(SourceRecordStore store, DemoSourceOptions options, Uri baseUrl, string type, IQueryCollection query)
    {
        if (!SourceRecordStore.IsServed(type))
        {
            return UnknownType(type);
        }

        if (!TryReadInt(query, "_count", DefaultPageSize, out var count) || !TryReadInt(query, "_offset", 0, out var offset) || count < 0 || offset < 0)
        {
            return FhirResponse.Outcome(StatusCodes.Status400BadRequest, OperationOutcome.IssueType.Invalid, "_count and _offset must be whole numbers, zero or more.");
        }

        count = Math.Min(count, MaximumPageSize);
        IReadOnlyList<Resource> matches;
        string criteria;
        IReadOnlyList<string> revIncluded = [];
        if (type == "Patient")
        {
            var identifier = (string?)query["identifier"];
            var id = (string?)query["_id"];
            if ((query.ContainsKey("_revinclude") || id is not null) && !options.OfferRevInclude)
            {
                // As a server that does not know these parameters answers a client asking for strict handling.
                return FhirResponse.Outcome(StatusCodes.Status400BadRequest, OperationOutcome.IssueType.NotSupported, "This source does not support _revinclude or _id on Patient searches.");
            }

            if (RevIncludedTypes(query) is not { } types)
            {
                return FhirResponse.Outcome(StatusCodes.Status400BadRequest, OperationOutcome.IssueType.NotSupported,
                    $"This source reverse-includes only {string.Join(", ", SourceRecordStore.ClinicalTypes.Select(SourceCapability.RevIncludeOf))}.");
            }

            revIncluded = types;
            matches = id is not null
                ? store.Read("Patient", id) is Patient byId && (string.IsNullOrEmpty(identifier) || store.FindPatients(identifier).Contains(byId)) ? [byId] : []
                : store.FindPatients(string.IsNullOrEmpty(identifier) ? null : identifier);
            criteria = (string.IsNullOrEmpty(identifier) ? "" : $"identifier={Uri.EscapeDataString(identifier)}&")
                + (id is null ? "" : $"_id={Uri.EscapeDataString(id)}&")
                + string.Concat(types.Select(t => $"_revinclude={Uri.EscapeDataString(SourceCapability.RevIncludeOf(t))}&"));
        }
        else
        {
            var patient = (string?)query["patient"];
            if (string.IsNullOrEmpty(patient))
            {
                return FhirResponse.Outcome(StatusCodes.Status400BadRequest, OperationOutcome.IssueType.Required,
                    $"This source searches {type} by patient only: add ?patient={{id}}.");
            }

            // Accept "123", "Patient/123" and an absolute reference ending in Patient/123.
            var marker = patient.LastIndexOf("Patient/", StringComparison.Ordinal);
            var patientId = marker < 0 ? patient : patient[(marker + "Patient/".Length)..];
            matches = store.ForPatient(type, patientId);
            criteria = $"patient={Uri.EscapeDataString(patientId)}&";
        }

        string PageUrl(int pageOffset) => string.Create(CultureInfo.InvariantCulture, $"{baseUrl}/{type}?{criteria}_count={count}&_offset={pageOffset}");

        var bundle = new Bundle
        {
            Id = Guid.NewGuid().ToString("D"),
            Meta = new Meta { LastUpdated = DateTimeOffset.UtcNow },
            Type = Bundle.BundleType.Searchset,
            Total = matches.Count,
            Link = [new Bundle.LinkComponent { Relation = "self", Url = PageUrl(offset) }],
            Entry = [.. matches.Skip(offset).Take(count).Select(resource => Entry(baseUrl, resource, Bundle.SearchEntryMode.Match))],
        };

        // Reverse includes come with the page of patients they belong to, as FHIR search paging works.
        foreach (var patient in bundle.Entry.Select(e => e.Resource).OfType<Patient>().ToList())
        {
            foreach (var included in revIncluded.SelectMany(t => store.ForPatient(t, patient.Id!)))
            {
                bundle.Entry.Add(Entry(baseUrl, included, Bundle.SearchEntryMode.Include));
            }
        }

        if (count > 0 && offset + count < matches.Count)
        {
            bundle.Link.Add(new Bundle.LinkComponent { Relation = "next", Url = PageUrl(offset + count) });
        }

        if (offset > 0)
        {
            bundle.Link.Add(new Bundle.LinkComponent { Relation = "previous", Url = PageUrl(Math.Max(0, offset - count)) });
        }

        return new FhirResponse(bundle);
    }

    private static Bundle.EntryComponent Entry(Uri baseUrl, Resource resource, Bundle.SearchEntryMode mode) => new()
    {
        FullUrl = $"{baseUrl}/{resource.TypeName}/{resource.Id}",
        Resource = resource,
        Search = new Bundle.SearchComponent { Mode = mode },
    };

    /// <summary>The record types named by <c>_revinclude=Type:patient</c> parameters; null when one names anything else.</summary>
    private static List<string>? RevIncludedTypes(IQueryCollection query)
    {
        var types = new List<string>();
        foreach (var value in query["_revinclude"])
        {
            var type = SourceRecordStore.ClinicalTypes.FirstOrDefault(t => SourceCapability.RevIncludeOf(t) == value);
            if (type is null)
            {
                return null;
            }

            types.Add(type);
        }

        return [.. types.Distinct()];
    }

    private static bool TryReadInt(IQueryCollection query, string name, int fallback, out int value)
    {
        var text = (string?)query[name];
        if (string.IsNullOrEmpty(text))
        {
            value = fallback;
            return true;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static FhirResponse UnknownType(string type) => FhirResponse.Outcome(StatusCodes.Status400BadRequest, OperationOutcome.IssueType.NotSupported,
        $"Resource type '{type}' is not served by this source. It serves Patient, {string.Join(", ", SourceRecordStore.ClinicalTypes)}.");
}
