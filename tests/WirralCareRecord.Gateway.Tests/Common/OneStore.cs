using WirralCareRecord.Gateway.Storage;

namespace WirralCareRecord.Gateway.Tests.Common;

/// <summary>Every container on one store: for tests of one feature's storage on its own.</summary>
internal sealed class OneStore(IBlobStore store) : IBlobStores
{
    public IBlobStore this[StorageContainer container] => store;
}
