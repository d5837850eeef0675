using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// Auditors are audited: every search, export, report, verification and disclosure listing (API or page) is a BALP
/// Query AuditEvent in the same log, naming who asked, what they asked (path and the names of the parameters, not free
/// text) and which patient, recorded before the answer leaves. A query that cannot be audited is not answered.
/// </summary>
internal static class AuditorAccess
{
    /// <summary>The parameter (query string or form field) that names a patient in auditor searches.</summary>
    public const string PatientParameter = "patient";

    public static Task RecordAsync(HttpContext context, int status, string? description)
    {
        var caller = CallerIdentity.Of(context, context.RequestServices.GetRequiredService<IOptions<GatewayAuthenticationOptions>>().Value);
        return context.RequestServices.GetRequiredService<AuditTrail>().RecordAsync(
            AccessAudit.For(caller, AccessKind.AuditorQuery, context.CorrelationId(), Patient(context), Request(context), status, description, []),
            context.RequestAborted);
    }

    /// <summary>The endpoint filter for the auditor API: audits the answer (or the refusal) before it is written.</summary>
    public static async ValueTask<object?> FilterAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        object? result;
        try
        {
            result = await next(invocation);
        }
        catch (GatewayException ex) when (ex is not AuditUnavailableException)
        {
            await RecordAsync(context, ex.StatusCode, ex.Message);
            throw;
        }

        await RecordAsync(context, StatusCodes.Status200OK, "auditor query answered");
        return result;
    }

    /// <summary>"GET /audit/AuditEvent?agent&amp;date&amp;patient": the parameters by name only, so the event stays small and free text stays out.</summary>
    private static string Request(HttpContext context)
    {
        var names = context.Request.Query.Keys.Concat(context.Request.HasFormContentType ? context.Request.Form.Keys : [])
            .Where(k => k.Length <= 40 && !k.StartsWith("__", StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(20).ToList();
        return $"{context.Request.Method} {context.Request.Path}" + (names.Count > 0 ? "?" + string.Join("&", names) : "");
    }

    private static string? Patient(HttpContext context)
    {
        var value = context.Request.Query[PatientParameter].ToString();
        if (string.IsNullOrEmpty(value) && context.Request.HasFormContentType)
        {
            value = context.Request.Form[PatientParameter].ToString();
        }

        return NhsNumber.Check(value) is { IsValid: true } check ? check.Value : null;
    }
}

/// <summary>The same for the audit pages: each page handler run by an auditor is recorded once it has its answer.</summary>
internal sealed class AuditorPageAudit : IAsyncPageFilter
{
    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        var executed = await next();
        var status = executed.Exception is GatewayException known ? known.StatusCode
            : executed.Exception is not null ? StatusCodes.Status500InternalServerError
            : context.HttpContext.Response.StatusCode;
        await AuditorAccess.RecordAsync(context.HttpContext, status, "auditor page");
    }
}
