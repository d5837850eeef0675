using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Demo.Hosting;

/// <summary>The real gateway, composed as its own Program composes it, pointed at the demo registry.</summary>
internal static class DemoGateway
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    public static WebApplication Build(string[] args, string seedPath, string workFolder)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, EnvironmentName = Environments.Development });
        var storage = Path.Combine(workFolder, "storage");

        // The demo sources listen on new ports each run, so the registry starts afresh from the seed every time;
        // the audit log and the agreement documents are kept.
        var registry = Path.Combine(storage, "wcr-registry");
        if (Directory.Exists(registry))
        {
            Directory.Delete(registry, recursive: true);
        }

        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Registry:SeedPath"] = seedPath,
            // The audit log, agreement documents and every other container go under this folder (storage/wcr-audit/, ...).
            ["Storage:LocalFolder"] = storage,
            // The designated test patients flow tests may fetch: synthetic people every populated demo source holds.
            ["Registry:TestPatients:0"] = "9000000009",
            ["Registry:TestPatients:1"] = "9000000122",
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
