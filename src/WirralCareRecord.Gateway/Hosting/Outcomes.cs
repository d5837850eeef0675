using Hl7.Fhir.Model;
using Microsoft.AspNetCore.WebUtilities;

namespace WirralCareRecord.Gateway.Hosting;

/// <summary>Builds the OperationOutcomes the gateway answers with.</summary>
public static class Outcomes
{
    public static OperationOutcome Create(
        OperationOutcome.IssueType code,
        string message,
        string? correlationId,
        OperationOutcome.IssueSeverity severity = OperationOutcome.IssueSeverity.Error,
        IEnumerable<OperationOutcome.IssueComponent>? extra = null)
    {
        var outcome = new OperationOutcome
        {
            // The id is the correlation id, so a caller quoting it to the service desk leads straight to the logs.
            Id = correlationId,
            Issue = [Issue(severity, code, message)],
        };
        if (extra is not null)
        {
            outcome.Issue.AddRange(extra);
        }

        return outcome;
    }

    public static OperationOutcome.IssueComponent Issue(OperationOutcome.IssueSeverity severity, OperationOutcome.IssueType code, string message) => new()
    {
        Severity = severity,
        Code = code,
        Diagnostics = message,
        Details = new CodeableConcept { Text = message },
    };

    /// <summary>
    /// Writes an OperationOutcome unless the response has already started (then there is nothing safe to add). The admin
    /// API is not FHIR: there the same message goes out as RFC 9457 ProblemDetails.
    /// </summary>
    /// <summary>Passes on <see cref="GatewayException.RetryAfterSeconds"/> as the <c>Retry-After</c> header.</summary>
    public static void SetRetryAfter(HttpContext context, GatewayException refused)
    {
        if (refused.RetryAfterSeconds is { } seconds && !context.Response.HasStarted)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    public static async Task WriteAsync(HttpContext context, int statusCode, OperationOutcome outcome)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        if (context.Request.Path.StartsWithSegments("/admin"))
        {
            var problem = new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = statusCode,
                Title = ReasonPhrases.GetReasonPhrase(statusCode),
                Detail = outcome.Issue.FirstOrDefault()?.Diagnostics,
                Extensions = { ["correlationId"] = context.CorrelationId() },
            };
            context.Response.StatusCode = statusCode;
            await context.Response.WriteAsJsonAsync(problem, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json", context.RequestAborted);
            return;
        }

        context.Response.StatusCode = statusCode;
        context.Response.ContentType = FhirJson.ContentType;
        await context.Response.Body.WriteAsync(FhirJson.SerializeToUtf8(outcome), context.RequestAborted);
    }

    public static string CorrelationId(this HttpContext context) =>
        System.Diagnostics.Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier;
}
