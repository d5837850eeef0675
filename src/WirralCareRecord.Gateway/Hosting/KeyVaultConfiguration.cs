using Azure.Identity;
using Azure.Security.KeyVault.Secrets;

namespace WirralCareRecord.Gateway.Hosting;

/// <summary>
/// Secrets from Azure Key Vault as configuration, when <c>KeyVault:VaultUri</c> is set: each enabled secret becomes a
/// setting, <c>--</c> in its name standing for <c>:</c> (so <c>Storage--BlobConnectionString</c> is
/// <c>Storage:BlobConnectionString</c>, <c>SourceSecrets--rbl</c> a source's client secret). Read once at start-up with
/// the managed identity (<c>DefaultAzureCredential</c>); a vault that cannot be read stops start-up.
/// </summary>
public static class KeyVaultConfiguration
{
    public const string VaultUriKey = "KeyVault:VaultUri";

    public static WebApplicationBuilder AddKeyVaultSecrets(this WebApplicationBuilder builder)
    {
        if (builder.Configuration[VaultUriKey] is { Length: > 0 } vault)
        {
            if (!Uri.TryCreate(vault, UriKind.Absolute, out var vaultUri) || vaultUri.Scheme != Uri.UriSchemeHttps)
            {
                throw new InvalidOperationException($"{VaultUriKey} must be the vault's https URI (https://<name>.vault.azure.net/), not '{vault}'.");
            }

            builder.Configuration.AddKeyVaultSecrets(new SecretClient(vaultUri, new DefaultAzureCredential()));
        }

        return builder;
    }

    /// <summary>Adds every enabled secret in the vault <paramref name="client"/> reads.</summary>
    public static IConfigurationBuilder AddKeyVaultSecrets(this IConfigurationBuilder configuration, SecretClient client)
    {
        var secrets = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var properties in client.GetPropertiesOfSecrets())
        {
            if (properties.Enabled != false)
            {
                secrets[properties.Name.Replace("--", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal)] = client.GetSecret(properties.Name).Value.Value;
            }
        }

        return configuration.AddInMemoryCollection(secrets);
    }
}
