using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Tests.Common;

/// <summary>What a Production gateway needs to start in a test: blob storage (Azurite) and https source addresses.</summary>
public static class ProductionSettings
{
    public static async Task<Dictionary<string, string?>> SafeAsync()
    {
        var settings = (await Azurite.InstanceAsync()).GatewaySettings();
        settings["Registry:AllowHttpSources"] = "false";
        return settings;
    }

    /// <summary>Every source as Production needs it: an https address and mutual TLS (never called by these tests).</summary>
    public static void SecureSources(RegistryDocument registry) =>
        registry.Organisations.ForEach(o =>
        {
            o.FhirBaseUrl = o.FhirBaseUrl.Replace("http://", "https://", StringComparison.Ordinal);
            o.Authentication = new SourceAuthentication(SourceAuthenticationMode.MutualTls, CertificateName: "gateway-client");
        });
}
