using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Resilience;

/// <summary>
/// Generated bad input, seeded so every run sends the same cases: NHS numbers, Parameters bodies, headers and tokens.
/// Whatever arrives, the gateway never answers 500 and every refusal is an OperationOutcome.
/// </summary>
public sealed class BadInputFuzzTests : IDisposable
{
    private const string Nhs = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _gp = new("N85001", "Riverside Medical Centre", OrganisationKind.GpPractice);

    public BadInputFuzzTests() => _gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"));

    private GatewayHost Host() => new(_issuer, [_gp], settings: new()
    {
        ["RateLimits:PerUserPerMinute"] = "100000",
        ["RateLimits:PerOrganisationPerMinute"] = "1000000",
    });

    [Fact]
    public async Task GetRecord_GeneratedNhsNumbers_NeverFailsAndRefusesWithOperationOutcome()
    {
        using var host = Host();
        using var client = host.CreateClient(_issuer.CreateToken());
        var random = new Random(7001);
        foreach (var value in Enumerable.Range(0, 1200).Select(_ => NhsNumberCase(random)))
        {
            var response = await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Uri.EscapeDataString(value)}");
            await AssertHandledAsync(response, value);
        }
    }

    [Fact]
    public async Task PostRecord_GeneratedParametersBodies_NeverFailsAndRefusesWithOperationOutcome()
    {
        using var host = Host();
        using var client = host.CreateClient(_issuer.CreateToken());
        var random = new Random(7002);
        var valid = FhirJson.Serialize(new Parameters { Parameter = [new Parameters.ParameterComponent { Name = "patientNHSNumber", Value = new Identifier("https://fhir.nhs.uk/Id/nhs-number", Nhs) }] });
        for (var i = 0; i < 800; i++)
        {
            var body = BodyCase(random, valid);
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue(random.Next(5) == 0 ? "text/plain" : "application/fhir+json");
            var response = await client.PostAsync("/fhir/Patient/$wcr-getrecord", content);
            await AssertHandledAsync(response, Encoding.UTF8.GetString(body[..Math.Min(body.Length, 200)]));
        }
    }

    [Fact]
    public async Task GetRecord_GeneratedTokensAndHeaders_NeverFailsAndRefusesWithOperationOutcome()
    {
        using var host = Host();
        using var client = host.CreateClient((string?)null);
        var random = new Random(7003);
        var good = _issuer.CreateToken();
        for (var i = 0; i < 800; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");
            var token = TokenCase(random, good);
            request.Headers.TryAddWithoutValidation("Authorization", token);
            if (random.Next(3) == 0)
            {
                request.Headers.TryAddWithoutValidation("X-Break-Glass-Reason", Junk(random, random.Next(0, 3000)));
            }

            if (random.Next(3) == 0)
            {
                request.Headers.TryAddWithoutValidation("Accept", Junk(random, random.Next(0, 100)));
            }

            if (random.Next(4) == 0)
            {
                request.Headers.TryAddWithoutValidation("X-Request-ID", Junk(random, random.Next(0, 500)));
            }

            var response = await client.SendAsync(request);
            await AssertHandledAsync(response, token[..Math.Min(token.Length, 80)]);
        }
    }

    private static async Task AssertHandledAsync(HttpResponseMessage response, string input)
    {
        var status = (int)response.StatusCode;
        Assert.True(status < 500 || status == 502, $"HTTP {status} for input '{input}'");
        if (status >= 400)
        {
            var body = await response.Content.ReadAsStringAsync();
            var resource = JsonSerializer.Deserialize<Resource>(body, FhirJson.Lenient);
            Assert.True(resource is OperationOutcome, $"HTTP {status} without an OperationOutcome for input '{input}': {body[..Math.Min(body.Length, 200)]}");
        }
    }

    private static string NhsNumberCase(Random random) => random.Next(10) switch
    {
        0 => "",
        1 => new string('9', random.Next(1, 40)),
        2 => Junk(random, random.Next(1, 30)),
        3 => "https://fhir.nhs.uk/Id/nhs-number|" + Junk(random, random.Next(0, 12)),
        4 => string.Concat(Enumerable.Range(0, 10).Select(_ => (char)('0' + random.Next(10)))),
        5 => "900 000 000" + random.Next(10),
        6 => "9000000009" + Junk(random, random.Next(1, 5)),
        7 => new string('x', random.Next(1000, 9000)),
        8 => "\u0669\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0669",
        _ => "|" + Junk(random, 10) + "|",
    };

    private static byte[] BodyCase(Random random, string valid)
    {
        var text = random.Next(9) switch
        {
            0 => "",
            1 => Junk(random, random.Next(1, 400)),
            2 => valid[..random.Next(valid.Length)],
            3 => valid.Replace(Nhs, Junk(random, 10), StringComparison.Ordinal),
            4 => "{\"resourceType\":\"Patient\",\"id\":\"x\"}",
            5 => "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"patientNHSNumber\",\"valueString\":\"" + Nhs + "\"}]}",
            6 => "{\"resourceType\":\"Parameters\",\"parameter\":" + new string('[', random.Next(10, 2000)) + "}",
            7 => Mutate(random, valid),
            _ => "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"patientDOB\",\"valueDate\":\"" + Junk(random, 12) + "\"}," +
                 "{\"name\":\"patientNHSNumber\",\"valueIdentifier\":{\"system\":\"https://fhir.nhs.uk/Id/nhs-number\",\"value\":\"" + Nhs + "\"}}]}",
        };
        return Encoding.UTF8.GetBytes(text);
    }

    private static string TokenCase(Random random, string good)
    {
        string Part(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var parts = good.Split('.');
        return random.Next(9) switch
        {
            0 => "",
            1 => "Bearer",
            2 => "Bearer " + Junk(random, random.Next(1, 300)),
            3 => "Bearer " + Part("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + parts[1] + ".",
            4 => "Bearer " + parts[0] + "." + parts[1] + "." + Mutate(random, parts[2]),
            5 => "Bearer " + new string('a', random.Next(10_000, 30_000)),
            6 => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("user:pass")),
            7 => "Bearer " + parts[0] + "." + Part("{\"oid\":\"x\",\"roles\":[\"Clinician\"]}") + "." + parts[2],
            _ => "Bearer " + good + Junk(random, 3),
        };
    }

    private static string Mutate(Random random, string text)
    {
        var chars = text.ToCharArray();
        for (var i = 0; i < Math.Max(1, chars.Length / 20); i++)
        {
            chars[random.Next(chars.Length)] = (char)random.Next(32, 127);
        }

        return new string(chars);
    }

    private static string Junk(Random random, int length)
    {
        const string alphabet = "0123456789abcXYZ -_|/\\\"'{}[]<>%&;:.,\t\u00e9\u2013\u0000";
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            builder.Append(alphabet[random.Next(alphabet.Length)]);
        }

        return builder.ToString();
    }

    public void Dispose()
    {
        _gp.Dispose();
        _issuer.Dispose();
    }
}
