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

    private static BlobServiceClient ServiceClient(StorageOptions settings)
    {
        // A request waits on its audit write: retrying an unreachable account for half a minute (the SDK default)
        // would hold every clinician that long before the 503 they must get.
        var options = new BlobClientOptions
        {
            Retry = { MaxRetries = 2, Delay = TimeSpan.FromMilliseconds(200), MaxDelay = TimeSpan.FromSeconds(2), NetworkTimeout = TimeSpan.FromSeconds(10) },
        };
        return string.IsNullOrWhiteSpace(settings.BlobConnectionString)
            ? new BlobServiceClient(settings.BlobServiceUri, new DefaultAzureCredential(), options)
            : new BlobServiceClient(settings.BlobConnectionString, options);
    }
}
