using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.Hosting;

/// <summary>Cross-cutting set-up: the OperationOutcome error surface, the correlation id header and the clock.</summary>
public static class HostingFeature
{
    /// <summary>
    /// The response header carrying the request's correlation id: the id its AuditEvent records (detail
    /// <c>correlation-id</c>), an error OperationOutcome's <c>id</c>, and what the gateway sends to sources as <c>X-Request-ID</c>.
    /// </summary>
    public const string CorrelationHeader = "X-Request-ID";

    public static IHostApplicationBuilder AddGatewayDefaults(this IHostApplicationBuilder builder)
    {
        // These framework categories write request URLs at Information, and the URLs of record reads carry
        // NHS numbers (?patientNHSNumber=, ?identifier=...|N). Patient identifiers must never reach application logs.
        foreach (var category in UrlLoggingCategories)
        {
            builder.Logging.AddFilter(category, LogLevel.Warning);
        }

        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<FhirExceptionHandler>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddRequestLimits();
        return builder;
    }

    /// <summary>Framework log categories that include request URLs below Warning.</summary>
    public static IReadOnlyList<string> UrlLoggingCategories { get; } =
    [
        "Microsoft.AspNetCore.Hosting.Diagnostics",
        "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.HttpLogging",
        "System.Net.Http.HttpClient",
        "Yarp.ReverseProxy",
    ];

    public static WebApplication UseGatewayDefaults(this WebApplication app)
    {
        // A 200 otherwise carries nothing that leads to its AuditEvent; with this a client, a support call or a test can
        // find the audit record of any answer. Set as the response starts, because the exception handler clears headers.
        app.Use((context, next) =>
        {
            var correlationId = context.CorrelationId();
            context.Response.OnStarting(() =>
            {
                context.Response.Headers[CorrelationHeader] = correlationId;
                return Task.CompletedTask;
            });
            return next(context);
        });
        app.UseSecurityHeaders();
        app.UseExceptionHandler();
        app.UseRequestLimits();
        app.UseAuthentication();
        app.UseAuthorization();
        // After sign-in, so limits apply per user and organisation; refusals by sign-in never count against them.
        app.UseRateLimiter();
        return app;
    }

    /// <summary>Unknown FHIR paths answer 404 with an OperationOutcome, as FHIR clients expect, not an empty body.</summary>
    public static IEndpointRouteBuilder MapFhirFallback(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapFallback("/fhir/{**path}", (HttpContext context) => new FhirResult(
            Outcomes.Create(OperationOutcome.IssueType.NotSupported, $"The gateway does not support {context.Request.Method} {context.Request.Path}. See /fhir/metadata.", context.CorrelationId()),
            StatusCodes.Status404NotFound)).AllowAnonymous();
        return endpoints;
    }
}
