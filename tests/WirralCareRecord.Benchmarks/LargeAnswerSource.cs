using System.Buffers;
using System.Text.Json;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Benchmarks;

/// <summary>
/// A raw FHIR source holding one patient, whose Condition search is one very large searchset. Each answer size is
/// served under its own base, <c>/{name}/fhir</c>, registered in the gateway as its own organisation. The large answer
/// is streamed (chunked, no Content-Length) by writing one buffer of entries over and over, so the source itself holds
/// a few hundred KB however large the answer: the benchmark shares a process with the gateway it measures.
/// </summary>
internal sealed class LargeAnswerSource : IAsyncDisposable
{
    public const string NhsNumber = "9000000009";
    public const string PatientId = "pas-1";

    /// <summary>Entries in the buffer written over and over; about 150 KB, so each write is a handful of Kestrel's blocks.</summary>
    private const int EntriesPerBuffer = 256;

    private readonly WebApplication _app;
    private readonly Dictionary<string, Served> _served;

    private LargeAnswerSource(WebApplication app, Dictionary<string, Served> served)
    {
        _app = app;
        _served = served;
    }

    /// <summary>Each base's name and the bytes its Condition search streams.</summary>
    public IReadOnlyDictionary<string, long> AnswerBytes => _served.ToDictionary(s => s.Key, s => s.Value.AnswerBytes);

    public Uri BaseOf(string name) => _served[name].BaseUrl;

    /// <param name="sizes">Base name (lower case letters and digits) and roughly how many bytes its Condition search answers.</param>
    public static async Task<LargeAnswerSource> StartAsync(IReadOnlyDictionary<string, long> sizes)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var served = new Dictionary<string, Served>(StringComparer.Ordinal);
        app.Run(context => AnswerAsync(context, served));
        await app.StartAsync();
        var origin = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First().TrimEnd('/');

        // Built once the port is known (every fullUrl names the base) and before anyone is told the address.
        foreach (var (name, size) in sizes)
        {
            served[name] = Served.Build(new Uri($"{origin}/{name}/fhir"), size);
        }

        return new LargeAnswerSource(app, served);
    }

    private static async Task AnswerAsync(HttpContext context, Dictionary<string, Served> served)
    {
        var segments = context.Request.Path.Value?.Trim('/').Split('/') ?? [];
        if (!HttpMethods.IsGet(context.Request.Method) || segments.Length < 3 || segments[1] != "fhir" || !served.TryGetValue(segments[0], out var source))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var query = context.Request.Query;
        var rest = string.Join('/', segments.Skip(2));
        var answer = rest switch
        {
            "metadata" => source.Capability,
            "Patient/" + PatientId => source.Patient,
            "Patient" when query["identifier"] == $"{Gateway.PatientMatching.NhsNumber.System}|{NhsNumber}" => source.PatientSearch,
            "Condition" when query.Count == 1 && query["patient"].ToString() is PatientId or "Patient/" + PatientId => null,
            _ when segments.Length == 3 => source.Empty,
            _ => Array.Empty<byte>(),
        };
        if (answer is { Length: 0 })
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        context.Response.ContentType = FhirJson.ContentType;
        if (answer is not null)
        {
            context.Response.ContentLength = answer.Length;
            await context.Response.Body.WriteAsync(answer, context.RequestAborted);
            return;
        }

        // No Content-Length, so Kestrel sends it chunked and the gateway cannot refuse it from the headers alone.
        try
        {
            await context.Response.Body.WriteAsync(source.Head, context.RequestAborted);
            for (var i = 0; i < source.Repeats; i++)
            {
                await context.Response.Body.WriteAsync(source.Repeated, context.RequestAborted);
            }

            await context.Response.Body.WriteAsync(source.Tail, context.RequestAborted);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The gateway stopped reading at its cap and closed the connection, as it should.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>What one base answers, serialised once.</summary>
    private sealed record Served(Uri BaseUrl, byte[] Capability, byte[] Patient, byte[] PatientSearch, byte[] Empty, byte[] Head, byte[] Repeated, int Repeats, byte[] Tail)
    {
        public long AnswerBytes => Head.Length + ((long)Repeated.Length * Repeats) + Tail.Length;

        public static Served Build(Uri baseUrl, long size)
        {
            var fhirBase = baseUrl.ToString().TrimEnd('/');
            var patient = new Patient
            {
                Id = PatientId,
                Identifier = [new Identifier(Gateway.PatientMatching.NhsNumber.System, NhsNumber)],
                Name = [new HumanName { Family = "Memory", Given = ["Bench"] }],
                Gender = AdministrativeGender.Female,
                BirthDate = "1950-04-01",
            };
            var search = new Bundle { Type = Bundle.BundleType.Searchset, Total = 1 };
            search.Entry.Add(new Bundle.EntryComponent { FullUrl = $"{fhirBase}/Patient/{PatientId}", Resource = patient, Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Match } });
            var capability = new CapabilityStatement
            {
                Status = PublicationStatus.Active,
                Date = "2026-01-01",
                Kind = CapabilityStatementKind.Instance,
                FhirVersion = FHIRVersion.N4_0_1,
                Format = ["json"],
                Rest =
                [
                    new CapabilityStatement.RestComponent
                    {
                        Mode = CapabilityStatement.RestfulCapabilityMode.Server,
                        Resource =
                        [
                            new CapabilityStatement.ResourceComponent { Type = "Patient", Interaction = [new() { Code = CapabilityStatement.TypeRestfulInteraction.Read }, new() { Code = CapabilityStatement.TypeRestfulInteraction.SearchType }] },
                            new CapabilityStatement.ResourceComponent { Type = "Condition", Interaction = [new() { Code = CapabilityStatement.TypeRestfulInteraction.SearchType }] },
                        ],
                    },
                ],
            };

            // The searchset's frame and its entries come from one Utf8JsonWriter, which puts the commas between entries:
            // the bytes between the first and second entry are one more entry, comma included, ready to be repeated.
            var condition = FhirJson.SerializeToUtf8(new Condition
            {
                Id = "c-1",
                ClinicalStatus = new CodeableConcept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active"),
                VerificationStatus = new CodeableConcept("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed"),
                Category = [new CodeableConcept("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item", "Problem List Item")],
                Code = new CodeableConcept("http://snomed.info/sct", "44054006", "Type 2 diabetes mellitus"),
                Subject = new ResourceReference($"Patient/{PatientId}"),
                Onset = new FhirDateTime("2015-03-02"),
                RecordedDate = "2015-03-02",
            });
            var frame = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(frame))
            {
                writer.WriteStartObject();
                writer.WriteString("resourceType", "Bundle");
                writer.WriteString("type", "searchset");
                writer.WriteStartArray("entry");
                WriteEntry(writer, fhirBase, condition);
                writer.Flush();
                var first = frame.WrittenCount;
                WriteEntry(writer, fhirBase, condition);
                writer.Flush();
                var second = frame.WrittenCount;
                writer.WriteEndArray();
                writer.WriteEndObject();
                writer.Flush();
                var bytes = frame.WrittenSpan;
                var one = bytes[first..second];
                var repeated = new byte[one.Length * EntriesPerBuffer];
                for (var i = 0; i < EntriesPerBuffer; i++)
                {
                    one.CopyTo(repeated.AsSpan(i * one.Length));
                }

                var head = bytes[..first].ToArray();
                var tail = bytes[second..].ToArray();
                var repeats = (int)Math.Ceiling((size - head.Length - tail.Length) / (double)repeated.Length);
                return new Served(baseUrl, FhirJson.SerializeToUtf8(capability), FhirJson.SerializeToUtf8(patient), FhirJson.SerializeToUtf8(search),
                    FhirJson.SerializeToUtf8(new Bundle { Type = Bundle.BundleType.Searchset, Total = 0 }), head, repeated, repeats, tail);
            }
        }

        private static void WriteEntry(Utf8JsonWriter writer, string fhirBase, byte[] condition)
        {
            writer.WriteStartObject();
            writer.WriteString("fullUrl", $"{fhirBase}/Condition/c-1");
            writer.WritePropertyName("resource");
            writer.WriteRawValue(condition, skipInputValidation: true);
            writer.WriteStartObject("search");
            writer.WriteString("mode", "match");
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
    }
}
