using System.Net;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Hosting;

/// <summary>A Production gateway starts only when it is safe: https sources, shared storage, no test-rig switches.</summary>
public sealed class ProductionStartupTests : IDisposable
{
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);

    private static string StartFailure(GatewayHost host) => Assert.ThrowsAny<Exception>(() => host.CreateClient(token: null)).ToString();

    [Fact]
    public async Task A_safe_production_configuration_starts()
    {
        using var host = new GatewayHost(_issuer, [_acute], environment: "Production", settings: await ProductionSettings.SafeAsync(), editRegistry: ProductionSettings.SecureSources);

        using var response = await host.CreateClient(token: null).GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Production_refuses_local_storage()
    {
        var settings = await ProductionSettings.SafeAsync();
        settings["Storage:Kind"] = "Local";
        using var host = new GatewayHost(_issuer, [_acute], environment: "Production", settings: settings, editRegistry: ProductionSettings.SecureSources);

        Assert.Contains("Storage:Kind must be AzureBlob in Production", StartFailure(host), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_refuses_a_registry_with_an_http_source()
    {
        using var host = new GatewayHost(_issuer, [_acute], environment: "Production", settings: await ProductionSettings.SafeAsync());

        var failure = StartFailure(host);

        Assert.Contains("not https", failure, StringComparison.Ordinal);
        Assert.Contains("RBL", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_refuses_a_source_the_gateway_would_call_unauthenticated()
    {
        using var host = new GatewayHost(_issuer, [_acute], environment: "Production", settings: await ProductionSettings.SafeAsync(), editRegistry: r =>
        {
            ProductionSettings.SecureSources(r);
            r.Organisations[0].Authentication = null;
        });

        Assert.Contains("cannot authenticate to (no or incomplete outbound authentication): RBL", StartFailure(host), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_refuses_the_setting_that_allows_http_sources()
    {
        var settings = await ProductionSettings.SafeAsync();
        settings["Registry:AllowHttpSources"] = "true";
        using var host = new GatewayHost(_issuer, [_acute], environment: "Production", settings: settings, editRegistry: ProductionSettings.SecureSources);

        Assert.Contains("Registry:AllowHttpSources must not be set in Production", StartFailure(host), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_refuses_to_start_without_an_Entra_registration_so_the_development_issuer_never_runs()
    {
        var settings = await ProductionSettings.SafeAsync();
        settings["AzureAd:ClientId"] = "";
        using var host = new GatewayHost(_issuer, [_acute], environment: "Production", settings: settings, editRegistry: ProductionSettings.SecureSources);

        Assert.Contains("AzureAd:ClientId", StartFailure(host), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _acute.Dispose();
        _issuer.Dispose();
    }
}
