using Hl7.Fhir.Model;
using Microsoft.AspNetCore.Http.HttpResults;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Authentication;

/// <summary><c>GET /dev/token</c>: hands out development tokens. Mapped only in Development.</summary>
internal static class DevelopmentTokenEndpoint
{
    public static IEndpointRouteBuilder MapDevelopmentTokens(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/dev/token", Issue).AllowAnonymous().ExcludeFromDescription();
        return endpoints;
    }

    private static Results<Ok<TokenResponse>, ContentHttpResult, FhirResult> Issue(
        DevelopmentIssuer issuer,
        HttpContext context,
        string role = Roles.Clinician,
        string ods = "N85001",
        string? user = null,
        string? name = null,
        string purpose = CallerIdentity.DirectCare,
        string? format = null)
    {
        if (!Roles.All.Contains(role, StringComparer.Ordinal))
        {
            return Invalid(context, $"Unknown role '{role}'. Use one of: {string.Join(", ", Roles.All)}.");
        }

        if (!OdsCode.IsValid(ods))
        {
            return Invalid(context, $"'{ods}' is not an ODS code (3 to 6 letters and digits).");
        }

        var lifetime = TimeSpan.FromHours(1);
        var token = issuer.CreateToken(role, ods.ToUpperInvariant(), user ?? $"dev-{role.ToLowerInvariant()}-{ods.ToLowerInvariant()}", name ?? $"Demo {role}", purpose, lifetime);
        return string.Equals(format, "jwt", StringComparison.OrdinalIgnoreCase)
            ? TypedResults.Text(token, "text/plain")
            : TypedResults.Ok(new TokenResponse(token, "Bearer", (int)lifetime.TotalSeconds));
    }

    private static FhirResult Invalid(HttpContext context, string message) =>
        new(Outcomes.Create(OperationOutcome.IssueType.Invalid, message, context.CorrelationId()), StatusCodes.Status400BadRequest);

    internal sealed record TokenResponse(
        [property: System.Text.Json.Serialization.JsonPropertyName("access_token")] string AccessToken,
        [property: System.Text.Json.Serialization.JsonPropertyName("token_type")] string TokenType,
        [property: System.Text.Json.Serialization.JsonPropertyName("expires_in")] int ExpiresIn);
}
