using Hl7.Fhir.Model;
using Microsoft.AspNetCore.Diagnostics;

namespace WirralCareRecord.Gateway.Hosting;

/// <summary>
/// Turns every failure on the FHIR surface into an OperationOutcome, logging it once with its correlation id.
/// Unexpected exceptions get a generic message: their text may carry data that must not reach the caller.
/// </summary>
internal sealed partial class FhirExceptionHandler(ILogger<FhirExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var correlationId = httpContext.CorrelationId();
        if (exception is GatewayException known)
        {
            if (known.StatusCode >= 500)
            {
                Log.GatewayFailure(logger, known.StatusCode, correlationId, exception);
            }

            Outcomes.SetRetryAfter(httpContext, known);
            await Outcomes.WriteAsync(httpContext, known.StatusCode, Outcomes.Create(known.Code, known.Message, correlationId, extra: known.ExtraIssues));
            return true;
        }

        if (exception is BadHttpRequestException bad)
        {
            await Outcomes.WriteAsync(httpContext, bad.StatusCode, Outcomes.Create(OperationOutcome.IssueType.Invalid, "The request could not be read: " + bad.Message, correlationId));
            return true;
        }

        Log.Unhandled(logger, correlationId, exception);
        await Outcomes.WriteAsync(
            httpContext,
            StatusCodes.Status500InternalServerError,
            Outcomes.Create(OperationOutcome.IssueType.Exception, $"The gateway failed unexpectedly. Quote reference {correlationId} to the service desk.", correlationId));
        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Warning, Message = "Request failed with {StatusCode} (correlation {CorrelationId})")]
        public static partial void GatewayFailure(ILogger logger, int statusCode, string correlationId, Exception exception);

        [LoggerMessage(EventId = 101, Level = LogLevel.Error, Message = "Unhandled exception (correlation {CorrelationId})")]
        public static partial void Unhandled(ILogger logger, string correlationId, Exception exception);
    }
}
