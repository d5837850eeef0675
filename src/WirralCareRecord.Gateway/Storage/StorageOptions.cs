using System.ComponentModel.DataAnnotations;

namespace WirralCareRecord.Gateway.Storage;

/// <summary>Where the gateway keeps its registry, agreement documents, audit log and record locator.</summary>
public enum StorageKind
{
    /// <summary>A folder on this machine: the embedded default for one instance.</summary>
    Local,

    /// <summary>Azure Blob Storage (or Azurite): what several instances share.</summary>
    AzureBlob,
}

/// <summary>Storage settings, section <c>Storage</c>.</summary>
public sealed class StorageOptions : IValidatableObject
{
    public const string SectionName = "Storage";

    public StorageKind Kind { get; set; } = StorageKind.Local;

    /// <summary>For <see cref="StorageKind.Local"/>: the root folder, absolute or relative to the content root.</summary>
    public string LocalFolder { get; set; } = "data";

    /// <summary>For <see cref="StorageKind.AzureBlob"/>: a connection string (a secret: keep it in Key Vault).</summary>
    public string? BlobConnectionString { get; set; }

    /// <summary>For <see cref="StorageKind.AzureBlob"/> without a connection string: the account's blob endpoint, reached with the managed identity.</summary>
    public Uri? BlobServiceUri { get; set; }

    /// <summary>Prefixed to every container name, so several gateways (or test runs) can share one account.</summary>
    [RegularExpression("^[a-z0-9-]{0,20}$", ErrorMessage = "Storage:ContainerPrefix may use lower-case letters, digits and '-' only, at most 20.")]
    public string ContainerPrefix { get; set; } = "wcr-";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Kind == StorageKind.AzureBlob && string.IsNullOrWhiteSpace(BlobConnectionString) && BlobServiceUri is null)
        {
            yield return new ValidationResult(
                "Storage:Kind is AzureBlob but neither Storage:BlobConnectionString nor Storage:BlobServiceUri is set.",
                [nameof(BlobConnectionString), nameof(BlobServiceUri)]);
        }

        if (Kind == StorageKind.Local && string.IsNullOrWhiteSpace(LocalFolder))
        {
            yield return new ValidationResult("Storage:LocalFolder must name a folder when Storage:Kind is Local.", [nameof(LocalFolder)]);
        }
    }

    /// <summary>The container's name in the account (or the folder's name under <see cref="LocalFolder"/>).</summary>
    public string ContainerName(StorageContainer container) => ContainerPrefix + container.ToString().ToLowerInvariant();
}
