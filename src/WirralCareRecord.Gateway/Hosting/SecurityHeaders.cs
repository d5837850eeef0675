namespace WirralCareRecord.Gateway.Hosting;

/// <summary>
/// Browser protections on every answer, pages and APIs alike: a Content-Security-Policy allowing the gateway's own
/// scripts and styles only (no inline script), no framing (clickjacking), no MIME sniffing, no referrer (addresses may
/// name a page a patient was seen on), and HSTS outside Development.
/// </summary>
public static class SecurityHeaders
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

    public static WebApplication UseSecurityHeaders(this WebApplication app)
    {
        var hsts = !app.Environment.IsDevelopment();
        app.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XFrameOptions = "DENY";
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                if (hsts)
                {
                    headers.StrictTransportSecurity = "max-age=31536000; includeSubDomains";
                }

                return Task.CompletedTask;
            });
            return next(context);
        });
        return app;
    }
}
