using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.Hosting;

/// <summary>
/// A failure the FHIR surface reports to the caller as an OperationOutcome. The message is shown to the caller,
/// so it must be plain, helpful, and free of patient data.
/// </summary>
public class GatewayException(int statusCode, OperationOutcome.IssueType code, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public int StatusCode { get; } = statusCode;

    public OperationOutcome.IssueType Code { get; } = code;

    /// <summary>Extra issues to report beside the message (e.g. one per source).</summary>
    public IReadOnlyList<OperationOutcome.IssueComponent> ExtraIssues { get; init; } = [];

    /// <summary>When set, the answer carries <c>Retry-After</c>: the caller may simply try again after this long.</summary>
    public int? RetryAfterSeconds { get; init; }
}

/// <summary>
/// The gateway holds as many source bytes as it may (Federation:MaxBufferedSourceBytes): 503 with Retry-After. Nothing
/// is wrong with the source or the request; it is the gateway protecting its own memory under load.
/// </summary>
public sealed class GatewayBusyException : GatewayException
{
    public GatewayBusyException(string odsCode)
        : base(StatusCodes.Status503ServiceUnavailable, OperationOutcome.IssueType.Transient, $"The gateway is busy and did not read organisation {odsCode}'s answer. Try again in a few seconds.") =>
        RetryAfterSeconds = 2;
}

/// <summary>The request itself is wrong: 400.</summary>
public sealed class InvalidRequestException(string message, OperationOutcome.IssueType code = OperationOutcome.IssueType.Invalid)
    : GatewayException(StatusCodes.Status400BadRequest, code, message);

/// <summary>Nothing to return: 404.</summary>
public sealed class NotFoundException(string message)
    : GatewayException(StatusCodes.Status404NotFound, OperationOutcome.IssueType.NotFound, message);

/// <summary>
/// The audit log could not be written. The gateway fails closed: nothing is served unaudited.
/// </summary>
public sealed class AuditUnavailableException(Exception inner)
    : GatewayException(
        StatusCodes.Status503ServiceUnavailable,
        OperationOutcome.IssueType.Transient,
        "The access could not be recorded in the audit log, so no record has been returned. Try again shortly; if it persists, contact the Wirral Care Record service desk.",
        inner);
