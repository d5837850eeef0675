using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using WirralCareRecord.Demo.Population;
using WirralCareRecord.Gateway.Hosting;
using Task = System.Threading.Tasks.Task;

namespace WirralCareRecord.Demo.PracticeSystem;

/// <summary>
/// Riverside Medical Centre's own record system, as far as a context launch needs it: a page listing the practice's
/// patients, each with a "Wirral Care Record" button, and a SMART on FHIR EHR behind it (SMART App Launch 2:
/// <c>.well-known/smart-configuration</c>, authorize, token with PKCE, an RS256 id_token naming the <c>fhirUser</c>, a
/// JWKS, and its FHIR server's Patient). The practice's user, Dr Asha Patel, is already signed in to it, so the authorize
/// step approves at once and the button opens the combined record with nothing typed.
/// </summary>
public sealed class DemoPracticeSystem : IAsyncDisposable
{
    /// <summary>The gateway's client id as registered with this system.</summary>
    public const string ClientId = "wirral-care-record";

    public const string FhirUser = "Practitioner/riverside-asha-patel";

    private readonly RSA _key = RSA.Create(2048);
    private readonly ConcurrentDictionary<string, string> _launches = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Challenge, string? Nonce, string PatientId, string RedirectUri)> _codes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _accessTokens = new(StringComparer.Ordinal);
    private WebApplication? _app;

    public DemoPracticeSystem(DemoOrganisation practice) => Practice = practice;

    public DemoOrganisation Practice { get; }

    /// <summary>Where the practice system is, e.g. <c>http://127.0.0.1:41234</c>. Known once started.</summary>
    public string Url { get; private set; } = "";

    /// <summary>The <c>iss</c> it sends on launch: its FHIR base.</summary>
    public string Issuer => Url + "/fhir";

    /// <summary>The gateway's address, for the buttons; set once the gateway has started.</summary>
    public string GatewayUrl { get; set; } = "";

    private IEnumerable<SyntheticPerson> Patients => SyntheticPopulation.People.Where(p => p.IsHeldBy(Practice.OdsCode));

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(DemoPracticeSystem).Assembly.GetName().Name, Args = [] });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        app.MapGet("/", Page);
        app.MapGet("/launch/{personIndex:int}", Launch);
        app.MapGet("/fhir/.well-known/smart-configuration", Configuration);
        app.MapGet("/authorize", Authorize);
        app.MapPost("/token", (Delegate)TokenAsync);
        app.MapGet("/jwks", Keys);
        app.MapGet("/fhir/Patient/{id}", ReadPatient);
        await app.StartAsync(cancellationToken);
        Url = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First().TrimEnd('/');
        _app = app;
    }

    /// <summary>The practice's patient list: each button starts a real SMART EHR launch of the gateway for that patient.</summary>
    private IResult Page()
    {
        var rows = new StringBuilder();
        foreach (var person in Patients)
        {
            rows.Append(CultureInfo($"<tr><td>{Encode(person.DisplayName)}</td><td>{person.BirthDate:d MMM yyyy}</td><td>{person.NhsNumber[..3]} {person.NhsNumber[3..6]} {person.NhsNumber[6..]}</td>"))
                .Append(CultureInfo($"<td><a class=\"button\" href=\"/launch/{person.Index}\">Wirral Care Record</a></td></tr>"));
        }

        var html = $$"""
            <!DOCTYPE html>
            <html lang="en">
            <head><meta charset="utf-8"><title>{{Encode(Practice.Name)}}: practice system (demo)</title><link rel="icon" href="data:,">
            <style>body{font-family:arial,sans-serif;margin:24px;color:#212b32}table{border-collapse:collapse}td,th{padding:6px 12px;border-bottom:1px solid #d8dde0;text-align:left}.button{background:#007f3b;color:#fff;padding:6px 12px;text-decoration:none;border-radius:4px}</style></head>
            <body>
            <h1>{{Encode(Practice.Name)}}: practice system (demo)</h1>
            <p>Signed in as Dr Asha Patel. "Wirral Care Record" opens the shared record for that patient by SMART on FHIR context launch: nothing to type.</p>
            <table><thead><tr><th>Patient</th><th>Born</th><th>NHS number</th><th></th></tr></thead><tbody>{{rows}}</tbody></table>
            </body></html>
            """;
        return Results.Content(html, "text/html; charset=utf-8");
    }

    /// <summary>What the EHR does when the button is pressed: make a launch code for the patient and open the app's launch URL.</summary>
    private IResult Launch(int personIndex)
    {
        if (Patients.FirstOrDefault(p => p.Index == personIndex) is not { } person || string.IsNullOrEmpty(GatewayUrl))
        {
            return Results.NotFound();
        }

        var launch = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(16));
        _launches[launch] = PatientId(person);
        return Results.Redirect(QueryHelpers.AddQueryString(GatewayUrl + "/launch", new Dictionary<string, string?> { ["iss"] = Issuer, ["launch"] = launch }));
    }

    private static readonly string[] GrantTypes = ["authorization_code"];
    private static readonly string[] ResponseTypes = ["code"];
    private static readonly string[] Scopes = ["openid", "fhirUser", "launch", "patient/Patient.rs"];
    private static readonly string[] Capabilities = ["launch-ehr", "client-public", "sso-openid-connect", "context-ehr-patient", "permission-v2"];
    private static readonly string[] ChallengeMethods = ["S256"];

    private IResult Configuration() => Results.Json(new Dictionary<string, object>
    {
        ["issuer"] = Url,
        ["jwks_uri"] = Url + "/jwks",
        ["authorization_endpoint"] = Url + "/authorize",
        ["token_endpoint"] = Url + "/token",
        ["grant_types_supported"] = GrantTypes,
        ["response_types_supported"] = ResponseTypes,
        ["scopes_supported"] = Scopes,
        ["capabilities"] = Capabilities,
        ["code_challenge_methods_supported"] = ChallengeMethods,
    });

    private IResult Authorize(HttpContext context)
    {
        string Q(string name) => context.Request.Query[name].ToString();
        if (Q("response_type") != "code" || Q("client_id") != ClientId || Q("aud") != Issuer || Q("code_challenge_method") != "S256"
            || Q("code_challenge").Length < 43 || !_launches.TryRemove(Q("launch"), out var patientId) || !Uri.TryCreate(Q("redirect_uri"), UriKind.Absolute, out var redirect))
        {
            return Results.BadRequest("Not a launch this practice system made.");
        }

        // Dr Patel is signed in to the practice system already: approve at once.
        var code = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(24));
        _codes[code] = (Q("code_challenge"), Q("nonce") is { Length: > 0 } nonce ? nonce : null, patientId, redirect.ToString());
        return Results.Redirect(QueryHelpers.AddQueryString(redirect.ToString(), new Dictionary<string, string?> { ["code"] = code, ["state"] = Q("state") }));
    }

    private async Task<IResult> TokenAsync(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (form["grant_type"] != "authorization_code" || !_codes.TryRemove(form["code"].ToString(), out var issued)
            || form["redirect_uri"] != issued.RedirectUri || form["client_id"] != ClientId
            || WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(form["code_verifier"].ToString()))) != issued.Challenge)
        {
            return Results.Json(new { error = "invalid_grant" }, statusCode: StatusCodes.Status400BadRequest);
        }

        var accessToken = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        _accessTokens[accessToken] = issued.PatientId;
        var claims = new Dictionary<string, object> { ["sub"] = "riverside-asha-patel", ["fhirUser"] = Issuer + "/" + FhirUser, ["name"] = "Dr Asha Patel" };
        if (issued.Nonce is not null)
        {
            claims["nonce"] = issued.Nonce;
        }

        var idToken = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Url,
            Audience = ClientId,
            Expires = DateTime.UtcNow.AddMinutes(5),
            Claims = claims,
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(_key) { KeyId = "practice-key-1" }, SecurityAlgorithms.RsaSha256),
        });
        return Results.Json(new Dictionary<string, object>
        {
            ["access_token"] = accessToken,
            ["token_type"] = "Bearer",
            ["expires_in"] = 300,
            ["scope"] = "launch openid fhirUser patient/Patient.rs",
            ["id_token"] = idToken,
            ["patient"] = issued.PatientId,
        });
    }

    private IResult Keys()
    {
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_key.ExportParameters(false)) { KeyId = "practice-key-1" });
        return Results.Json(new { keys = new[] { new { kty = jwk.Kty, use = "sig", kid = jwk.Kid, n = jwk.N, e = jwk.E, alg = "RS256" } } });
    }

    /// <summary>The patient in context, as the practice holds them; only with an access token issued for that patient.</summary>
    private IResult ReadPatient(HttpContext context, string id)
    {
        var bearer = context.Request.Headers.Authorization.ToString();
        if (!bearer.StartsWith("Bearer ", StringComparison.Ordinal) || !_accessTokens.TryGetValue(bearer["Bearer ".Length..], out var allowed) || allowed != id)
        {
            return Results.Unauthorized();
        }

        if (Patients.FirstOrDefault(p => PatientId(p) == id) is not { } person)
        {
            return Results.NotFound();
        }

        var patient = new Patient
        {
            Id = id,
            Identifier = [new Identifier(Gateway.PatientMatching.NhsNumber.System, person.NhsNumber)],
            Name = [new HumanName { Family = person.FamilyName, Given = [person.GivenName], Prefix = [person.Prefix] }],
            Gender = person.Gender,
            BirthDate = person.BirthDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
        };
        return Results.Text(JsonSerializer.Serialize<Resource>(patient, FhirJson.Strict), FhirJson.ContentType);
    }

    private static string PatientId(SyntheticPerson person) => $"emis-{person.Index}";

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static string CultureInfo(FormattableString text) => text.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }

        _key.Dispose();
    }
}
