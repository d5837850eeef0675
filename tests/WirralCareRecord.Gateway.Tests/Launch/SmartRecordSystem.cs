using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Types;
using WireMock.Util;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Tests.Launch;

/// <summary>
/// A clinician's record system acting as a SMART on FHIR EHR (SMART App Launch 2): its
/// <c>.well-known/smart-configuration</c>, an authorize endpoint that checks the request and sends the browser back with
/// a code, a token endpoint that checks the PKCE verifier against the challenge and answers with an access token, the
/// patient in context and an RS256 id_token naming the <c>fhirUser</c>, its JWKS, and a FHIR server that reads the
/// Patient only with that access token. Also a tiny "practice system" page whose button opens the launch.
/// </summary>
public sealed class SmartRecordSystem : IDisposable
{
    public const string ClientId = "wirral-care-record";
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly RSA _otherRsa = RSA.Create(2048);
    private readonly ConcurrentDictionary<string, (string PatientId, string FhirUser)> _launches = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Challenge, string? Nonce, string Launch, string RedirectUri)> _codes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Patient> _patients = new(StringComparer.Ordinal);
    private readonly string _accessToken = "rs-access-" + Guid.NewGuid().ToString("N");

    public SmartRecordSystem()
    {
        Server = WireMockServer.Start();
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_rsa.ExportParameters(false)) { KeyId = "ehr-key-1" });
        var configuration = new Dictionary<string, object>
        {
            ["issuer"] = Server.Url!,
            ["jwks_uri"] = Server.Url + "/jwks",
            ["authorization_endpoint"] = Server.Url + "/authorize",
            ["token_endpoint"] = Server.Url + "/token",
            ["grant_types_supported"] = new[] { "authorization_code" },
            ["scopes_supported"] = new[] { "openid", "fhirUser", "launch", "patient/Patient.rs" },
            ["response_types_supported"] = new[] { "code" },
            ["capabilities"] = new[] { "launch-ehr", "client-public", "sso-openid-connect", "context-ehr-patient", "permission-v2" },
            ["code_challenge_methods_supported"] = new[] { "S256" },
        };
        Server.Given(Request.Create().UsingGet().WithPath("/fhir/.well-known/smart-configuration"))
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody(JsonSerializer.Serialize(configuration)));
        Server.Given(Request.Create().UsingGet().WithPath("/jwks"))
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody(JsonSerializer.Serialize(new
            {
                keys = new[] { new { kty = jwk.Kty, use = "sig", kid = jwk.Kid, n = jwk.N, e = jwk.E, alg = "RS256" } },
            })));
        Server.Given(Request.Create().UsingGet().WithPath("/authorize")).RespondWith(Response.Create().WithCallback(Authorize));
        Server.Given(Request.Create().UsingPost().WithPath("/token")).RespondWith(Response.Create().WithCallback(Token));
        Server.Given(Request.Create().UsingGet().WithPath(new WireMock.Matchers.WildcardMatcher("/fhir/Patient/*"))).RespondWith(Response.Create().WithCallback(ReadPatient));
        Server.Given(Request.Create().UsingGet().WithPath("/practice")).RespondWith(Response.Create().WithCallback(PracticePage));
    }

    public WireMockServer Server { get; }

    /// <summary>The <c>iss</c> of a launch: the system's FHIR base.</summary>
    public string Issuer => Server.Url + "/fhir";

    /// <summary>The gateway's address, for the practice page's launch buttons.</summary>
    public string GatewayUrl { get; set; } = "";

    /// <summary>Spoils the id_token: another audience, or signed with a key the JWKS does not hold.</summary>
    public string? IdTokenAudience { get; set; }

    public bool SignWithOtherKey { get; set; }

    /// <summary>Every code_verifier the token endpoint accepted (PKCE was used).</summary>
    public ConcurrentQueue<string> AcceptedVerifiers { get; } = new();

    /// <summary>The scopes the gateway asked for at the authorize endpoint.</summary>
    public ConcurrentQueue<string> RequestedScopes { get; } = new();

    /// <summary>The system holds this patient, and a launch code that opens the gateway for them as <paramref name="fhirUser"/>.</summary>
    public string AddLaunch(Patient patient, string fhirUser = "Practitioner/gp-asha-patel")
    {
        _patients[patient.Id!] = patient;
        var launch = "launch-" + Guid.NewGuid().ToString("N")[..12];
        _launches[launch] = (patient.Id!, fhirUser);
        return launch;
    }

    public string LaunchUrl(string launch) => $"{GatewayUrl}/launch?iss={Uri.EscapeDataString(Issuer)}&launch={launch}";

    private ResponseMessage Authorize(IRequestMessage request)
    {
        string Q(string name) => request.Query?.TryGetValue(name, out var v) == true ? v.ToString() ?? "" : "";
        var redirect = Q("redirect_uri");
        if (Q("response_type") != "code" || Q("client_id") != ClientId || Q("aud") != Issuer || Q("code_challenge_method") != "S256"
            || Q("code_challenge").Length < 43 || !_launches.ContainsKey(Q("launch")) || !redirect.StartsWith(GatewayUrl + "/launch/callback", StringComparison.Ordinal))
        {
            return Text(400, "Bad authorize request");
        }

        RequestedScopes.Enqueue(Q("scope"));
        var code = "code-" + Guid.NewGuid().ToString("N");
        _codes[code] = (Q("code_challenge"), Q("nonce") is { Length: > 0 } n ? n : null, Q("launch"), redirect);
        var message = new ResponseMessage { StatusCode = 302 };
        message.AddHeader("Location", QueryHelpers.AddQueryString(redirect, new Dictionary<string, string?> { ["code"] = code, ["state"] = Q("state") }));
        return message;
    }

    private ResponseMessage Token(IRequestMessage request)
    {
        var form = QueryHelpers.ParseQuery(request.Body ?? "");
        string F(string name) => form.TryGetValue(name, out var v) ? v.ToString() : "";
        if (F("grant_type") != "authorization_code" || !_codes.TryRemove(F("code"), out var issued) || F("redirect_uri") != issued.RedirectUri || F("client_id") != ClientId)
        {
            return Json(400, new { error = "invalid_grant" });
        }

        // PKCE (RFC 7636): the verifier must hash to the challenge sent to the authorize endpoint.
        if (WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(F("code_verifier")))) != issued.Challenge)
        {
            return Json(400, new { error = "invalid_grant", error_description = "PKCE verification failed" });
        }

        AcceptedVerifiers.Enqueue(F("code_verifier"));
        var (patientId, fhirUser) = _launches[issued.Launch];
        var claims = new Dictionary<string, object> { ["sub"] = fhirUser.Split('/')[^1], ["fhirUser"] = fhirUser, ["name"] = "Dr Asha Patel" };
        if (issued.Nonce is not null)
        {
            claims["nonce"] = issued.Nonce;
        }

        var key = new RsaSecurityKey(SignWithOtherKey ? _otherRsa : _rsa) { KeyId = "ehr-key-1" };
        var idToken = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Server.Url,
            Audience = IdTokenAudience ?? ClientId,
            Expires = DateTime.UtcNow.AddMinutes(5),
            Claims = claims,
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
        });
        return Json(200, new Dictionary<string, object>
        {
            ["access_token"] = _accessToken,
            ["token_type"] = "Bearer",
            ["expires_in"] = 300,
            ["scope"] = "launch openid fhirUser patient/Patient.rs",
            ["id_token"] = idToken,
            ["patient"] = patientId,
        });
    }

    private ResponseMessage ReadPatient(IRequestMessage request)
    {
        if (request.Headers?.TryGetValue("Authorization", out var auth) != true || auth.ToString() != "Bearer " + _accessToken)
        {
            return Text(401, "Unauthorized");
        }

        var id = request.Path.Split('/')[^1];
        if (!_patients.TryGetValue(id, out var patient))
        {
            return Text(404, "Not found");
        }

        var message = new ResponseMessage
        {
            StatusCode = 200,
            BodyData = new BodyData { BodyAsString = FhirJson.Serialize(patient), DetectedBodyType = BodyType.String, Encoding = Encoding.UTF8 },
        };
        message.AddHeader("Content-Type", FhirJson.ContentType);
        return message;
    }

    /// <summary>The practice system's patient list, each with a button that opens the Wirral Care Record by context launch.</summary>
    private ResponseMessage PracticePage(IRequestMessage request)
    {
        var rows = string.Join("", _launches.Select(l => $"<li>{System.Net.WebUtility.HtmlEncode(_patients[l.Value.PatientId].Name[0].Family)} <a id=\"open-{l.Value.PatientId}\" href=\"{System.Net.WebUtility.HtmlEncode(LaunchUrl(l.Key))}\">Wirral Care Record</a></li>"));
        var message = new ResponseMessage
        {
            StatusCode = 200,
            BodyData = new BodyData { BodyAsString = $"<!DOCTYPE html><html lang=\"en\"><head><title>Practice system</title><link rel=\"icon\" href=\"data:,\"></head><body><ul>{rows}</ul></body></html>", DetectedBodyType = BodyType.String, Encoding = Encoding.UTF8 },
        };
        message.AddHeader("Content-Type", "text/html; charset=utf-8");
        return message;
    }

    private static ResponseMessage Json(int status, object body)
    {
        var message = new ResponseMessage
        {
            StatusCode = status,
            BodyData = new BodyData { BodyAsString = JsonSerializer.Serialize(body), DetectedBodyType = BodyType.String, Encoding = Encoding.UTF8 },
        };
        message.AddHeader("Content-Type", "application/json");
        return message;
    }

    private static ResponseMessage Text(int status, string body)
    {
        var message = new ResponseMessage
        {
            StatusCode = status,
            BodyData = new BodyData { BodyAsString = body, DetectedBodyType = BodyType.String, Encoding = Encoding.UTF8 },
        };
        message.AddHeader("Content-Type", "text/plain");
        return message;
    }

    public void Dispose()
    {
        Server.Stop();
        Server.Dispose();
        _rsa.Dispose();
        _otherRsa.Dispose();
    }
}
