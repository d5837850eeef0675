using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Demo.Hosting;

/// <summary>The real gateway, composed as its own Program composes it, pointed at the demo registry.</summary>
internal static class DemoGateway
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    public static WebApplication Build(string[] args, string seedPath, string storageFolder)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, EnvironmentName = Environments.Development });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Registry:SeedPath"] = seedPath,
            // The audit log (and every other container) goes under this folder: storage/wcr-audit/.
            ["Storage:LocalFolder"] = storageFolder,
        });

        // --urls, ASPNETCORE_URLS and DOTNET_URLS all arrive as "urls"; only when none is given use the demo's port.
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.AddGateway();
        var app = builder.Build();
        app.MapGateway();
        return app;
    }

    /// <summary>The address the started gateway listens on, for the console and the curl examples.</summary>
    public static string ListeningUrl(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses
            .OrderBy(a => a.StartsWith("https:", StringComparison.OrdinalIgnoreCase) ? 1 : 0)
            .First().TrimEnd('/');
}
