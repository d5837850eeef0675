using System.Net;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Hosting;

/// <summary>A Production gateway starts only when it is safe: https sources, shared storage, no test-rig switches.</summary>
public sealed class ProductionStartupTests : IDisposable
{
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);

    /// <summary>A Production gateway with safe settings and sources, changed by <paramref name="change"/> and <paramref name="registry"/>.</summary>
    private async Task<GatewayHost> ProductionAsync(Action<Dictionary<string, string?>>? change = null, Action<RegistryDocument>? registry = null)
    {
        var settings = await ProductionSettings.SafeAsync();
        change?.Invoke(settings);
        return new GatewayHost(_issuer, [_acute], environment: "Production", settings: settings, editRegistry: registry ?? ProductionSettings.SecureSources);
    }

    /// <summary>Why the gateway refused to start, as the platform team would read it.</summary>
    private async Task<string> StartFailureAsync(Action<Dictionary<string, string?>>? change = null, Action<RegistryDocument>? registry = null)
    {
        using var host = await ProductionAsync(change, registry);
        return Assert.ThrowsAny<Exception>(() => host.CreateClient(token: null)).ToString();
    }

    [Fact]
    public async Task A_safe_production_configuration_starts()
    {
        using var host = await ProductionAsync();

        using var response = await host.CreateClient(token: null).GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Production_refuses_local_storage()
    {
        var failure = await StartFailureAsync(s => s["Storage:Kind"] = "Local");

        Assert.Contains("Storage:Kind must be AzureBlob in Production", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_refuses_a_registry_with_an_http_source()
    {
        var failure = await StartFailureAsync(registry: _ => { });

        Assert.Contains("not https", failure, StringComparison.Ordinal);
        Assert.Contains("RBL", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_refuses_a_source_the_gateway_would_call_unauthenticated()
    {
        var failure = await StartFailureAsync(registry: r =>
        {
            ProductionSettings.SecureSources(r);
            r.Organisations[0].Authentication = null;
        });

        Assert.Contains("cannot authenticate to (no or incomplete outbound authentication): RBL", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_refuses_the_setting_that_allows_http_sources()
    {
        var failure = await StartFailureAsync(s => s["Registry:AllowHttpSources"] = "true");

        Assert.Contains("Registry:AllowHttpSources must not be set in Production", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_refuses_to_start_without_an_Entra_registration_so_the_development_issuer_never_runs()
    {
        var failure = await StartFailureAsync(s => s["AzureAd:ClientId"] = "");

        Assert.Contains("AzureAd:ClientId", failure, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _acute.Dispose();
        _issuer.Dispose();
    }
}
