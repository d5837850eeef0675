using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Authentication;

namespace WirralCareRecord.Gateway.Hosting;

/// <summary>Limits on record reads (API, source routes and the record page together), per user and per organisation, so one account or system cannot trawl the record.</summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "RateLimits";

    /// <summary>Record reads (federated and single-source) one user may make per minute.</summary>
    [Range(1, 10_000_000)]
    public int PerUserPerMinute { get; set; } = 120;

    /// <summary>Record reads all users of one organisation may make per minute.</summary>
    [Range(1, 10_000_000)]
    public int PerOrganisationPerMinute { get; set; } = 3000;
}

/// <summary>ASP.NET Core rate limiting on record reads: 429 with Retry-After and an OperationOutcome, audited.</summary>
public static class RateLimitingFeature
{
    public static IHostApplicationBuilder AddRecordRateLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<RateLimitOptions>(RateLimitOptions.SectionName);
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>, IOptions<GatewayAuthenticationOptions>>((limiter, limits, authentication) =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                Partition(limits.Value.PerUserPerMinute, caller => "user:" + caller.UserId, authentication),
                Partition(limits.Value.PerOrganisationPerMinute, caller => "org:" + (caller.OdsCode ?? "none"), authentication));
            limiter.OnRejected = RejectAsync;
        });
        return builder;
    }

    private static PartitionedRateLimiter<HttpContext> Partition(int perMinute, Func<CallerIdentity, string> key, IOptions<GatewayAuthenticationOptions> authentication) =>
        PartitionedRateLimiter.Create<HttpContext, string>(context =>
            IsRecordRead(context.Request) && CallerIdentity.Of(context, authentication.Value) is { } caller
                ? RateLimitPartition.GetFixedWindowLimiter(key(caller), _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 })
                // Unauthenticated requests are refused by sign-in anyway; other endpoints are not record reads.
                : RateLimitPartition.GetNoLimiter(string.Empty));

    /// <summary>
    /// Every way to read a record: the API (<c>$wcr-getrecord</c>), a source's route (<c>/sources/{ods}/fhir/...</c>) and the
    /// record page (a POST to <c>/record</c> looks a patient up; its GET is only the empty form). One limit covers them all,
    /// so moving between them gains nothing.
    /// </summary>
    internal static bool IsRecordRead(HttpRequest request) =>
        request.Path.StartsWithSegments("/fhir/Patient/$wcr-getrecord")
        || request.Path.StartsWithSegments("/sources")
        || (request.Path.StartsWithSegments("/record") && HttpMethods.IsPost(request.Method));

    private static async ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
        var seconds = (int)Math.Ceiling(retryAfter.TotalSeconds);
        var message = $"Too many record reads: the limit for you or your organisation has been reached. Try again in {seconds} s.";
        var caller = CallerIdentity.Of(context, context.RequestServices.GetRequiredService<IOptions<GatewayAuthenticationOptions>>().Value);
        await context.RequestServices.GetRequiredService<AuditTrail>().RecordAsync(
            AccessAudit.For(
                caller,
                context.Request.Path.StartsWithSegments("/sources") ? AccessKind.SourceRead : AccessKind.FederatedRead,
                context.CorrelationId(),
                null,
                $"{context.Request.Method} {context.Request.Path}",
                StatusCodes.Status429TooManyRequests,
                message,
                []),
            cancellationToken);
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await Outcomes.WriteAsync(context, StatusCodes.Status429TooManyRequests, Outcomes.Create(OperationOutcome.IssueType.Throttled, message, context.CorrelationId()));
    }
}
