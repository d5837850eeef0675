using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Authentication;

namespace WirralCareRecord.Gateway.Pages;

/// <summary>The signed-in page user, read as the API reads a token's caller.</summary>
internal static class PageCaller
{
    public static CallerIdentity? Of(HttpContext context) =>
        CallerIdentity.Of(context, context.RequestServices.GetRequiredService<IOptions<GatewayAuthenticationOptions>>().Value);
}
