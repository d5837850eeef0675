using System.ComponentModel.DataAnnotations;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace WirralCareRecord.Gateway.Hosting;

/// <summary>Bounds on every request, whatever its transfer encoding (section <c>RequestLimits</c>).</summary>
public sealed class RequestLimitOptions
{
    public const string SectionName = "RequestLimits";

    /// <summary>The largest request body any endpoint accepts unless it says otherwise (<see cref="IRequestSizeLimitMetadata"/>).</summary>
    [Range(1024, 100 * 1024 * 1024)]
    public long MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>The longest value any one request header may have, in characters (a CIS2 bearer token fits with room to spare).</summary>
    [Range(256, 64 * 1024)]
    public int MaxHeaderValueChars { get; set; } = 16 * 1024;
}

/// <summary>
/// Enforces <see cref="RequestLimitOptions"/> on every request: a body is counted as it is read, so a chunked body
/// (no Content-Length) is cut off at the limit instead of being buffered whole; an over-long header is refused before
/// any endpoint sees it. Nothing of the refused input is echoed back.
/// </summary>
public static class RequestLimits
{
    public static IHostApplicationBuilder AddRequestLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<RequestLimitOptions>(RequestLimitOptions.SectionName);
        return builder;
    }

    public static WebApplication UseRequestLimits(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            var options = context.RequestServices.GetRequiredService<IOptions<RequestLimitOptions>>().Value;
            foreach (var header in context.Request.Headers)
            {
                if (header.Value.Sum(v => v?.Length ?? 0) > options.MaxHeaderValueChars)
                {
                    await Outcomes.WriteAsync(context, StatusCodes.Status431RequestHeaderFieldsTooLarge, Outcomes.Create(
                        OperationOutcome.IssueType.TooLong,
                        $"A request header is longer than the {options.MaxHeaderValueChars} characters allowed.",
                        context.CorrelationId()));
                    return;
                }
            }

            var limit = context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize ?? options.MaxBodyBytes;
            if (context.Request.ContentLength > limit)
            {
                await Outcomes.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, TooLarge(limit, context));
                return;
            }

            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } server)
            {
                server.MaxRequestBodySize = limit;
            }

            context.Request.Body = new LimitedReadStream(context.Request.Body, limit, () => new BadHttpRequestException($"The request body is larger than the {limit} bytes this endpoint accepts.", StatusCodes.Status413PayloadTooLarge));
            await next(context);
        });
        return app;
    }

    /// <summary>
    /// The query string of a request, to echo in a link: without <paramref name="drop"/> (free text such as a break-glass
    /// reason, which belongs in the audit only) and without any value longer than <paramref name="maxValueLength"/>.
    /// </summary>
    public static QueryString SafeQuery(IQueryCollection query, IReadOnlyCollection<string> drop, int maxValueLength = 200) =>
        QueryString.Create(query
            .Where(q => !drop.Contains(q.Key, StringComparer.OrdinalIgnoreCase) && q.Key.Length <= 64)
            .SelectMany(q => q.Value.Where(v => v is not null && v.Length <= maxValueLength).Select(v => KeyValuePair.Create(q.Key, v))));

    private static OperationOutcome TooLarge(long limit, HttpContext context) =>
        Outcomes.Create(OperationOutcome.IssueType.TooCostly, $"The request body is larger than the {limit} bytes this endpoint accepts.", context.CorrelationId());
}
