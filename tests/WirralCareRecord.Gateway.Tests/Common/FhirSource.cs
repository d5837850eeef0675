using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Hl7.Fhir.Model;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Types;
using WireMock.Util;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Tests.Common;

/// <summary>
/// One simulated source system: a WireMock server answering FHIR R4 searches with real FHIR JSON written by the SDK.
/// Unless told otherwise it knows nobody and holds nothing (empty searchsets), as a real server would.
/// </summary>
public sealed class FhirSource : IDisposable
{
    private const int Specific = 1;
    private const int Fallback = 100;

    // What the source holds, as configured below, so the one-call answers (_revinclude, batch) serve the same data as
    // the searches per type.
    private readonly ConcurrentDictionary<string, Patient[]> _patientsByNhs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Type, string PatientId), Resource[]> _searches = new();
    private readonly ConcurrentDictionary<(string Type, string Id), Resource> _reads = new();

    public FhirSource(string odsCode, string name, OrganisationKind kind, WireMock.Settings.WireMockServerSettings? settings = null)
    {
        OdsCode = odsCode;
        Name = name;
        Kind = kind;
        Server = settings is null ? WireMockServer.Start() : WireMockServer.Start(settings);
        Server.Given(Request.Create().UsingGet().WithPath(new WireMock.Matchers.WildcardMatcher("/fhir/*")))
            .AtPriority(Fallback)
            .RespondWith(Fhir(SearchSet([])));
    }

    public string OdsCode { get; }

    public string Name { get; }

    public OrganisationKind Kind { get; }

    public WireMockServer Server { get; }

    public string BaseUrl => Server.Url + "/fhir";

    /// <summary>
    /// Requests for data this source has received, oldest first. The gateway's health probes of <c>/metadata</c> arrive
    /// on their own schedule, so they are left out: a test counting requests must not depend on when a probe fired.
    /// </summary>
    public IReadOnlyList<WireMock.Logging.ILogEntry> DataRequests =>
        [.. Server.LogEntries.Where(e => e.RequestMessage?.Path?.EndsWith("/metadata", StringComparison.Ordinal) != true)];

    public IReadOnlyList<string> RequestedPaths => [.. DataRequests.Select(e => e.RequestMessage!.Path + (e.RequestMessage.RawQuery is { Length: > 0 } q ? "?" + q : ""))];

    public static Patient NewPatient(string id, string nhsNumber, string family = "Jones", string given = "Sarah", string birthDate = "1958-03-14") => new()
    {
        Id = id,
        Identifier = [new Identifier(NhsNumber.System, nhsNumber)],
        Name = [new HumanName { Family = family, Given = [given] }],
        Gender = AdministrativeGender.Female,
        BirthDate = birthDate,
    };

    /// <summary>The source knows this patient by this NHS number.</summary>
    public FhirSource WithPatient(Patient patient, params Resource[] record)
    {
        var nhs = patient.Identifier.First(i => i.System == NhsNumber.System).Value;
        _patientsByNhs[nhs!] = [patient];
        Server.Given(Request.Create().UsingGet().WithPath("/fhir/Patient").WithParam("identifier", $"{NhsNumber.System}|{nhs}"))
            .AtPriority(Specific)
            .RespondWith(Fhir(SearchSet([patient])));
        WithRead(patient);
        foreach (var group in record.GroupBy(r => r.TypeName))
        {
            WithSearch(group.Key, patient.Id!, [.. group]);
        }

        return this;
    }

    /// <summary>The search for one type of a patient's record answers these resources, in pages of <paramref name="pageSize"/>.</summary>
    public FhirSource WithSearch(string type, string patientId, IReadOnlyList<Resource> resources, int? pageSize = null)
    {
        _searches[(type, patientId)] = [.. resources];
        var size = pageSize ?? Math.Max(resources.Count, 1);
        var pages = resources.Chunk(size).ToList();
        for (var i = 0; i < pages.Count; i++)
        {
            var bundle = SearchSet(pages[i]);
            if (i + 1 < pages.Count)
            {
                bundle.Link.Add(new Bundle.LinkComponent { Relation = "next", Url = $"{BaseUrl}/{type}?patient={patientId}&_page={i + 2}" });
            }

            var request = Request.Create().UsingGet().WithPath($"/fhir/{type}").WithParam("patient", patientId);
            if (i > 0)
            {
                request = request.WithParam("_page", (i + 1).ToString(CultureInfo.InvariantCulture));
            }

            Server.Given(request).AtPriority(i == 0 ? Specific + 1 : Specific).RespondWith(Fhir(bundle));
        }

        return this;
    }

    /// <summary>Every request gets this answer, whatever it asks.</summary>
    public FhirSource AnswerEverything(HttpStatusCode status, string body, string contentType, TimeSpan? delay = null)
    {
        var response = Response.Create().WithStatusCode(status).WithHeader("Content-Type", contentType).WithBody(body);
        if (delay is not null)
        {
            response = response.WithDelay(delay.Value);
        }

        Server.Given(Request.Create().UsingAnyMethod().WithPath(new WireMock.Matchers.WildcardMatcher("/*"))).AtPriority(0).RespondWith(response);
        return this;
    }

    /// <summary>
    /// The source's CapabilityStatement: Patient searchable by identifier (unless <paramref name="patientSearch"/> is false)
    /// and each of <paramref name="recordTypes"/> searchable by patient.
    /// </summary>
    public FhirSource WithCapabilityStatement(IEnumerable<string> recordTypes, bool patientSearch = true, FHIRVersion fhirVersion = FHIRVersion.N4_0_1)
    {
        var capability = CapabilityFor([.. recordTypes], patientSearch, fhirVersion);
        Server.Given(Request.Create().UsingGet().WithPath("/fhir/metadata")).AtPriority(Specific).RespondWith(Fhir(capability));
        return this;
    }

    /// <summary>Every request without exactly this bearer token is refused with 401, as a source protected by OAuth 2.0 would.</summary>
    public FhirSource RequireBearer(string accessToken)
    {
        Server.Given(Request.Create().UsingAnyMethod().WithPath(new WireMock.Matchers.WildcardMatcher("/*"))
                .WithHeader("Authorization", $"Bearer {accessToken}", WireMock.Matchers.MatchBehaviour.RejectOnMatch))
            .AtPriority(0)
            .RespondWith(Response.Create().WithStatusCode(401).WithHeader("WWW-Authenticate", "Bearer"));
        return this;
    }

    /// <summary>
    /// Adds to the CapabilityStatement what the one-call fetches need: a <c>searchRevInclude</c> of <c>{type}:patient</c> on
    /// Patient for each of <paramref name="revIncludeTypes"/>, and the <c>batch</c> system interaction when <paramref name="batch"/>.
    /// </summary>
    public FhirSource WithCapabilityStatement(IEnumerable<string> recordTypes, IEnumerable<string> revIncludeTypes, bool batch)
    {
        var capability = CapabilityFor([.. recordTypes]);
        var rest = capability.Rest.Single();
        rest.Resource.Single(r => r.Type == "Patient").SearchRevInclude = [.. revIncludeTypes.Select(t => t + ":patient")];
        if (batch)
        {
            rest.Interaction.Add(new CapabilityStatement.SystemInteractionComponent { Code = CapabilityStatement.SystemRestfulInteraction.Batch });
        }

        Server.Given(Request.Create().UsingGet().WithPath("/fhir/metadata")).AtPriority(0).RespondWith(Fhir(capability));
        return this;
    }

    /// <summary>A server CapabilityStatement: Patient searchable by identifier (unless not <paramref name="patientSearch"/>), each record type by patient.</summary>
    public static CapabilityStatement CapabilityFor(IReadOnlyList<string> recordTypes, bool patientSearch = true, FHIRVersion fhirVersion = FHIRVersion.N4_0_1)
    {
        CapabilityStatement.ResourceComponent Searchable(string type, string parameter) => new()
        {
            Type = type,
            Interaction = [new CapabilityStatement.ResourceInteractionComponent { Code = CapabilityStatement.TypeRestfulInteraction.SearchType }],
            SearchParam = [new CapabilityStatement.SearchParamComponent { Name = parameter, Type = SearchParamType.Reference }],
        };
        return new CapabilityStatement
        {
            Status = PublicationStatus.Active,
            Date = "2026-01-01",
            Kind = CapabilityStatementKind.Instance,
            FhirVersion = fhirVersion,
            Format = ["json"],
            Rest =
            [
                new CapabilityStatement.RestComponent
                {
                    Mode = CapabilityStatement.RestfulCapabilityMode.Server,
                    Resource = [.. patientSearch ? [Searchable("Patient", "identifier")] : Array.Empty<CapabilityStatement.ResourceComponent>(), .. recordTypes.Select(t => Searchable(t, "patient"))],
                },
            ],
        };
    }

    /// <summary>
    /// Answers <c>Patient?identifier=...&amp;_revinclude=T:patient...</c> (and <c>Patient?_id=...&amp;_revinclude=...</c>, for
    /// a merged record's successor) with the matched patients and, as <c>include</c> entries, everything the searches per
    /// type would have returned, in one answer: what a server supporting reverse includes does.
    /// </summary>
    public FhirSource ServingRevInclude()
    {
        Server.Given(Request.Create().UsingGet().WithPath("/fhir/Patient").WithParam("_revinclude"))
            .AtPriority(0)
            .RespondWith(Response.Create().WithCallback(request =>
            {
                var query = request.Query ?? new Dictionary<string, WireMockList<string>>();
                Patient[] patients = query.TryGetValue("identifier", out var identifier) && _patientsByNhs.TryGetValue(identifier.ToString()!.Split('|').Last(), out var found)
                    ? found
                    : query.TryGetValue("_id", out var id) && _reads.TryGetValue(("Patient", id.ToString()!), out var read) ? [(Patient)read] : [];
                var bundle = SearchSet(patients);
                foreach (var include in query.TryGetValue("_revinclude", out var includes) ? includes : [])
                {
                    var type = include.Split(':')[0];
                    foreach (var resource in patients.SelectMany(p => _searches.TryGetValue((type, p.Id!), out var held) ? held : []))
                    {
                        bundle.Entry.Add(new Bundle.EntryComponent
                        {
                            FullUrl = $"{BaseUrl}/{resource.TypeName}/{resource.Id}",
                            Resource = resource,
                            Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Include },
                        });
                    }
                }

                return FhirMessage(bundle);
            }));
        return this;
    }

    /// <summary>
    /// Answers a <c>batch</c> Bundle POSTed to the base with a <c>batch-response</c>: each <c>{type}?patient={id}</c> search
    /// answered with the same resources as the search per type (unpaged); <paramref name="failType"/>'s search answers 500.
    /// </summary>
    public FhirSource ServingBatch(string? failType = null)
    {
        Server.Given(Request.Create().UsingPost().WithPath("/fhir"))
            .AtPriority(0)
            .RespondWith(Response.Create().WithCallback(request =>
            {
                var batch = (Bundle)JsonSerializer.Deserialize<Resource>(request.Body!, FhirJson.Strict)!;
                var answer = new Bundle { Type = Bundle.BundleType.BatchResponse, Id = Guid.NewGuid().ToString() };
                foreach (var entry in batch.Entry)
                {
                    var url = entry.Request.Url;
                    var type = url.Split('?')[0];
                    var patientId = url.Split('?')[1].Split('&').Select(p => p.Split('=')).First(p => p[0] == "patient")[1];
                    answer.Entry.Add(type == failType
                        ? new Bundle.EntryComponent { Response = new Bundle.ResponseComponent { Status = "500 Internal Server Error" } }
                        : new Bundle.EntryComponent
                        {
                            Resource = SearchSet(_searches.TryGetValue((type, Uri.UnescapeDataString(patientId)), out var held) ? held : []),
                            Response = new Bundle.ResponseComponent { Status = "200 OK" },
                        });
                }

                return FhirMessage(answer);
            }));
        return this;
    }

    /// <summary>From now on the source no longer finds the patient by this NHS number (the record was moved or removed).</summary>
    public FhirSource Forgetting(string nhsNumber)
    {
        _patientsByNhs.TryRemove(nhsNumber, out _);
        Server.Given(Request.Create().UsingGet().WithPath("/fhir/Patient").WithParam("identifier", $"{NhsNumber.System}|{nhsNumber}"))
            .AtPriority(0)
            .RespondWith(Fhir(SearchSet([])));
        return this;
    }

    private static ResponseMessage FhirMessage(Resource resource)
    {
        var message = new ResponseMessage
        {
            StatusCode = 200,
            BodyData = new BodyData { BodyAsString = FhirJson.Serialize(resource), DetectedBodyType = BodyType.String, Encoding = Encoding.UTF8 },
        };
        message.AddHeader("Content-Type", FhirJson.ContentType);
        return message;
    }

    /// <summary>A read of one resource by id.</summary>
    public FhirSource WithRead(Resource resource, IDictionary<string, string>? headers = null)
    {
        _reads[(resource.TypeName, resource.Id!)] = resource;
        var response = Fhir(resource);
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            response = response.WithHeader(name, value);
        }

        Server.Given(Request.Create().UsingGet().WithPath($"/fhir/{resource.TypeName}/{resource.Id}")).AtPriority(Specific).RespondWith(response);
        return this;
    }

    public Bundle SearchSet(IEnumerable<Resource> resources)
    {
        var bundle = new Bundle { Type = Bundle.BundleType.Searchset, Id = Guid.NewGuid().ToString() };
        foreach (var resource in resources)
        {
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = $"{BaseUrl}/{resource.TypeName}/{resource.Id}",
                Resource = resource,
                Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Match },
            });
        }

        bundle.Total = bundle.Entry.Count;
        bundle.Link.Add(new Bundle.LinkComponent { Relation = "self", Url = $"{BaseUrl}/search" });
        return bundle;
    }

    private static IResponseBuilder Fhir(Resource resource) => Response.Create()
        .WithStatusCode(200)
        .WithHeader("Content-Type", FhirJson.ContentType)
        .WithBody(FhirJson.Serialize(resource));

    public void Dispose()
    {
        Server.Stop();
        Server.Dispose();
    }
}
