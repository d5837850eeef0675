using Microsoft.Extensions.Primitives;
using WirralCareRecord.Gateway.Agreements;

namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>One consistent view of the registry: organisations and the agreements between them.</summary>
public sealed record RegistrySnapshot(IReadOnlyList<Organisation> Organisations, IReadOnlyList<SharingAgreement> Agreements)
{
    public static RegistrySnapshot Empty { get; } = new([], []);

    public Organisation? Find(string odsCode) =>
        Organisations.FirstOrDefault(o => string.Equals(o.OdsCode, odsCode, StringComparison.OrdinalIgnoreCase));
}

/// <summary>
/// The organisation registry. Everything that decides what the gateway federates (sources, routes,
/// agreements) reads it through this interface, so a managed store can replace the seed file.
/// </summary>
public interface IOrganisationRegistry
{
    /// <summary>The current registry; cheap to call on every request.</summary>
    RegistrySnapshot Current { get; }

    /// <summary>Fires when the registry changes, so YARP routes follow it without a restart.</summary>
    IChangeToken GetChangeToken();
}
