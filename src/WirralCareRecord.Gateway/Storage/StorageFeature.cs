using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Storage;

/// <summary>Registers the blob containers every stateful feature keeps its data in.</summary>
public static class StorageFeature
{
    public static IHostApplicationBuilder AddStorage(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<StorageOptions>(StorageOptions.SectionName)
            .Validate(
                o => o.Kind == StorageKind.AzureBlob || !builder.Environment.IsProduction(),
                "Storage:Kind must be AzureBlob in Production: the audit log, registry and locator must survive the instance and be shared by every instance. Set Storage:BlobServiceUri (managed identity) or Storage:BlobConnectionString.");
        builder.Services.AddSingleton<IBlobStores, BlobStores>();
        return builder;
    }
}
