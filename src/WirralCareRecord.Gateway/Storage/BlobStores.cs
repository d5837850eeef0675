using Azure.Identity;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Options;

namespace WirralCareRecord.Gateway.Storage;

/// <summary>One store per container, of the kind <see cref="StorageOptions.Kind"/> names.</summary>
internal sealed class BlobStores : IBlobStores
{
    private readonly Dictionary<StorageContainer, IBlobStore> _stores;

    public BlobStores(IOptions<StorageOptions> options, IHostEnvironment environment)
    {
        var settings = options.Value;
        var service = settings.Kind == StorageKind.AzureBlob ? ServiceClient(settings) : null;
        _stores = Enum.GetValues<StorageContainer>().ToDictionary(
            container => container,
            container => service is null
                ? (IBlobStore)new LocalFolderBlobStore(Path.Combine(Path.GetFullPath(settings.LocalFolder, environment.ContentRootPath), settings.ContainerName(container)))
                : new AzureBlobStore(service.GetBlobContainerClient(settings.ContainerName(container))));
    }

    public IBlobStore this[StorageContainer container] => _stores[container];

    private static BlobServiceClient ServiceClient(StorageOptions settings) =>
        string.IsNullOrWhiteSpace(settings.BlobConnectionString)
            ? new BlobServiceClient(settings.BlobServiceUri, new DefaultAzureCredential())
            : new BlobServiceClient(settings.BlobConnectionString);
}
