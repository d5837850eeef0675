using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Storage;

/// <summary>Registers the blob containers every stateful feature keeps its data in.</summary>
public static class StorageFeature
{
    public static IHostApplicationBuilder AddStorage(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<StorageOptions>(StorageOptions.SectionName);
        builder.Services.AddSingleton<IBlobStores, BlobStores>();
        return builder;
    }
}
