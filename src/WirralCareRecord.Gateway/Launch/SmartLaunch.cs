using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Hl7.Fhir.Model;
using Claim = System.Security.Claims.Claim;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Pages;
using NhsNumber = WirralCareRecord.Gateway.PatientMatching.NhsNumber;

namespace WirralCareRecord.Gateway.Launch;

/// <summary>
/// SMART App Launch 2 EHR launch (https://hl7.org/fhir/smart-app-launch/app-launch.html), the gateway as a public client
/// using PKCE: the record system opens <c>/launch?iss=..&amp;launch=..</c>; the gateway reads the system's SMART
/// configuration, sends the browser to its authorize endpoint, exchanges the code, validates the id_token against the
/// system's keys, reads the Patient in context for its NHS number, signs the <c>fhirUser</c> in to the pages as a
/// clinician of the organisation the registry gives that system, and opens the record page for the patient. The read
/// itself is the pages' and the API's read: the same sharing rules, corroboration and audit, with channel "context launch".
/// </summary>
internal sealed partial class SmartLaunch(
    IHttpClientFactory httpClients,
    IOrganisationRegistry registry,
    SourceConnectionRule connections,
    IDataProtectionProvider protection,
    IOptions<LaunchOptions> options,
    Federation.PublicBaseAddress publicBase,
    IOptions<GatewayAuthenticationOptions> authenticationOptions,
    AuditTrail audit,
    TimeProvider time,
    ILogger<SmartLaunch> logger)
{
    public const string HttpClientName = "smart-launch";
    public const string LaunchPath = "/launch";
    public const string CallbackPath = "/launch/callback";
    public const string ProblemPath = "/launch/problem";
    private const string StateCookiePrefix = "wcr-launch-";
    private const string PendingPurpose = "WirralCareRecord.Launch.Pending.v1";

    [GeneratedRegex("^[A-Za-z0-9\\-\\.]{1,64}$")]
    private static partial Regex FhirId();

    public async Task<IResult> StartAsync(HttpContext context, string? iss, string? launch)
    {
        if (string.IsNullOrWhiteSpace(iss) || string.IsNullOrWhiteSpace(launch))
        {
            return Problem(LaunchProblem.MissingParameters);
        }

        var organisation = registry.Current.Organisations.FirstOrDefault(o => o.RecordSystem?.Issued(iss) == true);
        if (organisation?.RecordSystem is not { } system || connections.Problem(system.Issuer) is not null)
        {
            Log.UnknownIssuer(logger, context.CorrelationId());
            return Problem(LaunchProblem.UnknownIssuer);
        }

        SmartConfiguration? configuration;
        try
        {
            using var client = httpClients.CreateClient(HttpClientName);
            configuration = await client.GetFromJsonAsync<SmartConfiguration>(system.Issuer + "/.well-known/smart-configuration", context.RequestAborted);
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException or NotSupportedException)
        {
            Log.ConfigurationUnavailable(logger, organisation.OdsCode, context.CorrelationId(), ex);
            return Problem(LaunchProblem.RecordSystemUnavailable);
        }

        if (configuration?.Problem() is { } notSmart || configuration is null)
        {
            Log.NotSmart(logger, organisation.OdsCode, configuration?.Problem() ?? "empty configuration");
            return Problem(LaunchProblem.NotSmartLaunch);
        }

        var state = RandomToken();
        var pending = new PendingLaunch(
            state,
            system.Issuer,
            organisation.OdsCode,
            system.ClientId,
            CodeVerifier: RandomToken(),
            Nonce: RandomToken(),
            RedirectUri: PublicBase() + CallbackPath,
            configuration.TokenEndpoint!,
            configuration.Issuer,
            configuration.JwksUri);
        var sealedPending = protection.CreateProtector(PendingPurpose).ToTimeLimitedDataProtector()
            .Protect(JsonSerializer.Serialize(pending), options.Value.SignInLifetime);
        // One cookie per launch, so two launches in two tabs do not spoil each other. Lax: the record system sends the
        // browser back with a top-level GET.
        context.Response.Cookies.Append(StateCookiePrefix + state, sealedPending, new CookieOptions
        {
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = SameSiteMode.Lax,
            Path = CallbackPath,
            MaxAge = options.Value.SignInLifetime,
            IsEssential = true,
        });

        var authorize = QueryHelpers.AddQueryString(configuration.AuthorizationEndpoint!, new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = system.ClientId,
            ["redirect_uri"] = pending.RedirectUri,
            ["launch"] = launch,
            ["scope"] = options.Value.Scope,
            ["state"] = state,
            ["aud"] = system.Issuer,
            ["code_challenge"] = Challenge(pending.CodeVerifier),
            ["code_challenge_method"] = "S256",
            ["nonce"] = pending.Nonce,
        });
        Log.LaunchStarted(logger, organisation.OdsCode, context.CorrelationId());
        return Results.Redirect(authorize);
    }

    public async Task<IResult> CompleteAsync(HttpContext context, string? code, string? state, string? error)
    {
        var pending = TakePending(context, state);
        if (pending is null)
        {
            return Problem(LaunchProblem.Expired);
        }

        // Trusted only while the registry still gives the organisation this record system: a launch started before an
        // approved record system change must not finish on the issuer it replaced.
        if (registry.Current.Find(pending.OdsCode)?.RecordSystem is not { } current || !current.Issued(pending.Issuer)
            || !string.Equals(current.ClientId, pending.ClientId, StringComparison.Ordinal))
        {
            Log.UnknownIssuer(logger, context.CorrelationId());
            return Problem(LaunchProblem.UnknownIssuer);
        }

        if (!string.IsNullOrEmpty(error) || string.IsNullOrEmpty(code))
        {
            Log.Declined(logger, pending.OdsCode, context.CorrelationId());
            return Problem(LaunchProblem.Declined);
        }

        using var client = httpClients.CreateClient(HttpClientName);
        SmartTokenResponse? token;
        try
        {
            using var exchange = await client.PostAsync(pending.TokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code",
                ["code"] = code,
                ["redirect_uri"] = pending.RedirectUri,
                ["client_id"] = pending.ClientId,
                ["code_verifier"] = pending.CodeVerifier,
            }), context.RequestAborted);
            token = exchange.IsSuccessStatusCode ? await exchange.Content.ReadFromJsonAsync<SmartTokenResponse>(context.RequestAborted) : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException or NotSupportedException)
        {
            Log.TokenFailed(logger, pending.OdsCode, context.CorrelationId(), ex);
            token = null;
        }

        if (token?.AccessToken is null || !string.Equals(token.TokenType, "Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return Problem(LaunchProblem.TokenRefused);
        }

        var user = await ValidateIdTokenAsync(client, pending, token.IdToken, context.RequestAborted);
        if (user is null)
        {
            return Problem(LaunchProblem.IdentityNotValid);
        }

        var fhirUser = user.GetClaim("fhirUser")?.Value ?? "";
        var caller = new CallerIdentity(fhirUser, NameOf(user, fhirUser), [Roles.Clinician], pending.OdsCode, CallerIdentity.DirectCare) { Channel = AccessChannel.ContextLaunch };
        if (!IsPractitioner(fhirUser))
        {
            await AuditRefusalAsync(context, caller, pending, StatusCodes.Status403Forbidden, "The launching user is not a practitioner.");
            return Problem(LaunchProblem.NotAClinician);
        }

        if (token.Patient is not { } patientId || !FhirId().IsMatch(patientId))
        {
            await AuditRefusalAsync(context, caller, pending, StatusCodes.Status400BadRequest, "The launch named no patient.");
            return Problem(LaunchProblem.NoPatient);
        }

        Patient? patient;
        try
        {
            using var read = new HttpRequestMessage(HttpMethod.Get, $"{pending.Issuer}/Patient/{patientId}");
            read.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.AccessToken);
            read.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(FhirJson.MediaType));
            using var answer = await client.SendAsync(read, context.RequestAborted);
            patient = answer.IsSuccessStatusCode
                ? await JsonSerializer.DeserializeAsync<Resource>(await answer.Content.ReadAsStreamAsync(context.RequestAborted), FhirJson.Lenient, context.RequestAborted) as Patient
                : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException or Hl7.Fhir.Serialization.DeserializationFailedException)
        {
            Log.PatientUnreadable(logger, pending.OdsCode, context.CorrelationId(), ex);
            patient = null;
        }

        if (patient is null)
        {
            await AuditRefusalAsync(context, caller, pending, StatusCodes.Status502BadGateway, "The patient in context could not be read from the record system.");
            return Problem(LaunchProblem.PatientUnreadable);
        }

        var nhsNumber = patient.Identifier
            .Where(i => i.System == NhsNumber.System)
            .Select(i => NhsNumber.Check(i.Value))
            .FirstOrDefault(c => c.IsValid)?.Value;
        if (nhsNumber is null)
        {
            await AuditRefusalAsync(context, caller, pending, StatusCodes.Status422UnprocessableEntity, "The patient in context has no valid NHS number at the record system.");
            return Problem(LaunchProblem.MissingNhsNumber);
        }

        await context.SignInAsync(PagesFeature.CookieScheme, Principal(caller));
        var launched = new LaunchContext(nhsNumber, patient.BirthDate, patient.Name.FirstOrDefault()?.Family, caller.UserId, pending.OdsCode, registry.Current.Find(pending.OdsCode)?.Name ?? pending.OdsCode);
        Log.LaunchCompleted(logger, pending.OdsCode, context.CorrelationId());
        return Results.Redirect($"/record?{LaunchContext.Parameter}={Uri.EscapeDataString(LaunchContext.Seal(protection, launched, options.Value.ContextLifetime))}");
    }

    private PendingLaunch? TakePending(HttpContext context, string? state)
    {
        if (string.IsNullOrEmpty(state) || state.Length > 64 || !state.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return null;
        }

        var cookie = StateCookiePrefix + state;
        var sealedPending = context.Request.Cookies[cookie];
        // Used once: a replayed callback finds no launch.
        context.Response.Cookies.Delete(cookie, new CookieOptions { Path = CallbackPath, Secure = context.Request.IsHttps, SameSite = SameSiteMode.Lax });
        if (sealedPending is null)
        {
            return null;
        }

        try
        {
            var pending = JsonSerializer.Deserialize<PendingLaunch>(protection.CreateProtector(PendingPurpose).ToTimeLimitedDataProtector().Unprotect(sealedPending));
            return pending?.State == state ? pending : null;
        }
        catch (Exception ex) when (ex is CryptographicException or JsonException or FormatException)
        {
            return null;
        }
    }

    /// <summary>The id_token's claims when its signature (the system's JWKS), issuer, audience (our client id), lifetime and nonce all check out; else null.</summary>
    private async Task<JsonWebToken?> ValidateIdTokenAsync(HttpClient client, PendingLaunch pending, string? idToken, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(idToken))
        {
            return null;
        }

        try
        {
            var jwksUri = pending.JwksUri;
            var issuer = pending.IdTokenIssuer ?? pending.Issuer;
            if (jwksUri is null)
            {
                // Systems that leave jwks_uri out of their SMART configuration publish it in their OpenID configuration.
                using var discovery = JsonDocument.Parse(await client.GetStringAsync(issuer.TrimEnd('/') + "/.well-known/openid-configuration", cancellationToken));
                jwksUri = discovery.RootElement.GetProperty("jwks_uri").GetString();
            }

            var keys = new JsonWebKeySet(await client.GetStringAsync(jwksUri, cancellationToken)).GetSigningKeys();
            var result = await new JsonWebTokenHandler().ValidateTokenAsync(idToken, new TokenValidationParameters
            {
                ValidIssuer = issuer,
                ValidAudience = pending.ClientId,
                IssuerSigningKeys = keys,
                RequireSignedTokens = true,
                RequireExpirationTime = true,
                ValidateLifetime = true,
                ClockSkew = TimeSpan.FromMinutes(2),
                LifetimeValidator = (notBefore, expires, _, parameters) =>
                    expires is { } e && e.ToUniversalTime() > time.GetUtcNow().UtcDateTime - parameters.ClockSkew
                    && (notBefore is not { } n || n.ToUniversalTime() < time.GetUtcNow().UtcDateTime + parameters.ClockSkew),
            });
            if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
            {
                Log.IdTokenRefused(logger, pending.OdsCode, result.Exception?.GetType().Name ?? "invalid");
                return null;
            }

            var nonce = jwt.TryGetPayloadValue<string>("nonce", out var value) ? value : null;
            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(nonce ?? ""), Encoding.UTF8.GetBytes(pending.Nonce)))
            {
                Log.IdTokenRefused(logger, pending.OdsCode, "nonce");
                return null;
            }

            return jwt.TryGetPayloadValue<string>("fhirUser", out var fhirUser) && !string.IsNullOrWhiteSpace(fhirUser) ? jwt : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException or ArgumentException or KeyNotFoundException or InvalidOperationException)
        {
            Log.IdTokenRefused(logger, pending.OdsCode, ex.GetType().Name);
            return null;
        }
    }

    /// <summary>A Practitioner or PractitionerRole, by relative or absolute reference (SMART's fhirUser).</summary>
    private static bool IsPractitioner(string fhirUser)
    {
        var parts = fhirUser.TrimEnd('/').Split('/');
        return parts.Length >= 2 && parts[^2] is "Practitioner" or "PractitionerRole" && FhirId().IsMatch(parts[^1]);
    }

    private static string NameOf(JsonWebToken user, string fhirUser) =>
        user.TryGetPayloadValue<string>("name", out var name) && !string.IsNullOrWhiteSpace(name) ? name : fhirUser;

    private ClaimsPrincipal Principal(CallerIdentity caller)
    {
        var claimTypes = authenticationOptions.Value;
        return new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim("sub", caller.UserId),
                new Claim("oid", caller.UserId),
                new Claim("name", caller.DisplayName ?? caller.UserId),
                new Claim("roles", Roles.Clinician),
                new Claim(claimTypes.OdsClaimType, caller.OdsCode!),
                new Claim(claimTypes.PurposeClaimType, caller.PurposeOfUse),
            ],
            CallerIdentity.ContextLaunchAuthenticationType,
            "name",
            "roles"));
    }

    private Task AuditRefusalAsync(HttpContext context, CallerIdentity caller, PendingLaunch pending, int status, string description) =>
        audit.RecordAsync(
            AccessAudit.For(caller, AccessKind.FederatedRead, context.CorrelationId(), null, $"GET {CallbackPath} (context launch from {pending.OdsCode})", status, description, []),
            context.RequestAborted);

    private string PublicBase() =>
        options.Value.PublicBaseUrl is { Length: > 0 } configured ? configured.TrimEnd('/') : publicBase.Value;

    private static IResult Problem(LaunchProblem problem) => Results.Redirect($"{ProblemPath}?reason={LaunchProblems.Of(problem).Code}");

    private static string RandomToken() => WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    /// <summary>PKCE S256 (RFC 7636 section 4.2): BASE64URL(SHA256(ASCII(code_verifier))).</summary>
    internal static string Challenge(string verifier) => WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    private static partial class Log
    {
        [LoggerMessage(EventId = 1900, Level = LogLevel.Information, Message = "Context launch from {OdsCode} sent to its authorize endpoint; request {CorrelationId}")]
        public static partial void LaunchStarted(ILogger logger, string odsCode, string correlationId);

        [LoggerMessage(EventId = 1901, Level = LogLevel.Information, Message = "Context launch from {OdsCode} completed; request {CorrelationId}")]
        public static partial void LaunchCompleted(ILogger logger, string odsCode, string correlationId);

        [LoggerMessage(EventId = 1902, Level = LogLevel.Warning, Message = "Context launch from an issuer not in the registry refused; request {CorrelationId}")]
        public static partial void UnknownIssuer(ILogger logger, string correlationId);

        [LoggerMessage(EventId = 1903, Level = LogLevel.Warning, Message = "SMART configuration of {OdsCode}'s record system could not be read; request {CorrelationId}")]
        public static partial void ConfigurationUnavailable(ILogger logger, string odsCode, string correlationId, Exception exception);

        [LoggerMessage(EventId = 1904, Level = LogLevel.Warning, Message = "{OdsCode}'s record system cannot be launched from: {Problem}")]
        public static partial void NotSmart(ILogger logger, string odsCode, string problem);

        [LoggerMessage(EventId = 1905, Level = LogLevel.Information, Message = "Context launch from {OdsCode} declined at its authorize endpoint; request {CorrelationId}")]
        public static partial void Declined(ILogger logger, string odsCode, string correlationId);

        [LoggerMessage(EventId = 1906, Level = LogLevel.Warning, Message = "Token exchange with {OdsCode}'s record system failed; request {CorrelationId}")]
        public static partial void TokenFailed(ILogger logger, string odsCode, string correlationId, Exception exception);

        [LoggerMessage(EventId = 1907, Level = LogLevel.Warning, Message = "id_token from {OdsCode}'s record system refused: {Reason}")]
        public static partial void IdTokenRefused(ILogger logger, string odsCode, string reason);

        [LoggerMessage(EventId = 1908, Level = LogLevel.Warning, Message = "Patient in context could not be read from {OdsCode}'s record system; request {CorrelationId}")]
        public static partial void PatientUnreadable(ILogger logger, string odsCode, string correlationId, Exception exception);
    }
}
