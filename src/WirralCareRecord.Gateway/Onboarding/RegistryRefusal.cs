using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>
/// An admin change the registry will not make, with the HTTP status that says why (400 bad input, 404 unknown,
/// 409 not allowed now, 412 changed by someone else, 413 too large, 415 wrong type, 428 If-Match missing).
/// On <c>/admin</c> it becomes a ProblemDetails response.
/// </summary>
public sealed class RegistryRefusal(int statusCode, string message)
    : GatewayException(statusCode, CodeFor(statusCode), message)
{
    private static OperationOutcome.IssueType CodeFor(int status) => status switch
    {
        StatusCodes.Status404NotFound => OperationOutcome.IssueType.NotFound,
        StatusCodes.Status409Conflict or StatusCodes.Status412PreconditionFailed or StatusCodes.Status428PreconditionRequired => OperationOutcome.IssueType.Conflict,
        StatusCodes.Status413PayloadTooLarge => OperationOutcome.IssueType.TooCostly,
        StatusCodes.Status503ServiceUnavailable => OperationOutcome.IssueType.Transient,
        _ => OperationOutcome.IssueType.Invalid,
    };

    public static RegistryRefusal NotFound(string what) => new(StatusCodes.Status404NotFound, $"{what} is not in the registry.");

    public static RegistryRefusal Invalid(IEnumerable<string> problems) => new(StatusCodes.Status400BadRequest, string.Join(" ", problems));

    public static RegistryRefusal Conflict(IEnumerable<string> problems) => new(StatusCodes.Status409Conflict, string.Join(" ", problems));
}
