using Microsoft.Extensions.Primitives;
using WirralCareRecord.Gateway.Agreements;

namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>A patient's objection to their record being shared through the Wirral Care Record.</summary>
public sealed record Objection(string NhsNumber, DateOnly RecordedOn, string RecordedBy);

/// <summary>One consistent view of the registry: organisations, the agreements between them, and patients' objections.</summary>
public sealed record RegistrySnapshot(IReadOnlyList<Organisation> Organisations, IReadOnlyList<SharingAgreement> Agreements, IReadOnlyList<Objection> Objections)
{
    public static RegistrySnapshot Empty { get; } = new([], [], []);

    public RegistrySnapshot(IReadOnlyList<Organisation> organisations, IReadOnlyList<SharingAgreement> agreements)
        : this(organisations, agreements, [])
    {
    }

    public Objection? ObjectionFor(string nhsNumber) => Objections.FirstOrDefault(o => o.NhsNumber == nhsNumber);

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
