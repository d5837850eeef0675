using System.Net;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Launch;

/// <summary>
/// A browser's part in a context launch, without a browser: opens <c>/launch</c> on the gateway (test server, keeping
/// its cookies), follows the redirect to the <see cref="SmartRecordSystem"/>'s authorize endpoint over the network, and
/// brings the code back to <c>/launch/callback</c>. The host needs <c>Launch:PublicBaseUrl</c> = <see cref="GatewayUrl"/>,
/// and the record systems' <see cref="SmartRecordSystem.GatewayUrl"/> the same.
/// </summary>
public sealed class ContextLaunchClient(GatewayHost host) : IDisposable
{
    /// <summary>The gateway's address as the test server's client sees it.</summary>
    public const string GatewayUrl = "http://localhost";

    private readonly HttpClient _gateway = host.CreateClient(token: null);
    private readonly HttpClient _recordSystem = new(new SocketsHttpHandler { AllowAutoRedirect = false });

    /// <summary>The whole launch: where the gateway finally sends the browser (<c>/record?launch=..</c> or <c>/launch/problem?reason=..</c>).</summary>
    public async Task<string> LaunchAsync(string launchUrl)
    {
        var next = await StartAsync(launchUrl);
        return next.StartsWith(GatewayUrl + "/launch/callback", StringComparison.Ordinal) ? await CompleteAsync(next) : next;
    }

    /// <summary>
    /// Up to the record system's answer: the callback address it sends the browser back to, or the gateway's problem page
    /// when the gateway refused to start.
    /// </summary>
    public async Task<string> StartAsync(string launchUrl)
    {
        var authorize = await RedirectAsync(_gateway, new Uri(launchUrl).PathAndQuery);
        if (!authorize.StartsWith("http", StringComparison.Ordinal))
        {
            return authorize;
        }

        return await RedirectAsync(_recordSystem, authorize);
    }

    /// <summary>Brings the browser back to the gateway's callback; where the gateway sends it then.</summary>
    public Task<string> CompleteAsync(string callbackUrl) => RedirectAsync(_gateway, new Uri(callbackUrl).PathAndQuery);

    private static async Task<string> RedirectAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"GET {url} answered {(int)response.StatusCode}, not a redirect: {await response.Content.ReadAsStringAsync()}");
        return response.Headers.Location!.OriginalString;
    }

    public void Dispose()
    {
        _gateway.Dispose();
        _recordSystem.Dispose();
    }
}
