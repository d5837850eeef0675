using Microsoft.Extensions.Primitives;
using WirralCareRecord.Gateway.Agreements;

namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>A patient's objection to their record being shared through the Wirral Care Record.</summary>
public sealed record Objection(string NhsNumber, DateOnly RecordedOn, string RecordedBy);

/// <summary>One consistent view of the registry: organisations, the agreements between them, patients' objections, phases and history.</summary>
public sealed record RegistrySnapshot(IReadOnlyList<Organisation> Organisations, IReadOnlyList<SharingAgreement> Agreements, IReadOnlyList<Objection> Objections)
{
    public static RegistrySnapshot Empty { get; } = new([], [], []);

    public RegistrySnapshot(IReadOnlyList<Organisation> organisations, IReadOnlyList<SharingAgreement> agreements)
        : this(organisations, agreements, [])
    {
    }

    public IReadOnlyList<Phase> Phases { get; init; } = [];

    public IReadOnlyList<RegistryChange> History { get; init; } = [];

    public Objection? ObjectionFor(string nhsNumber) => Objections.FirstOrDefault(o => o.NhsNumber == nhsNumber);

    public Organisation? Find(string odsCode) =>
        Organisations.FirstOrDefault(o => string.Equals(o.OdsCode, odsCode, StringComparison.OrdinalIgnoreCase));

    public SharingAgreement? FindAgreement(string id) =>
        Agreements.FirstOrDefault(a => string.Equals(a.Id, id, StringComparison.OrdinalIgnoreCase));

    public Phase? FindPhase(int number) => Phases.FirstOrDefault(p => p.Number == number);

    /// <summary>The agreements that name <paramref name="odsCode"/> as a party (provider or consumer).</summary>
    public IEnumerable<SharingAgreement> AgreementsOf(string odsCode) =>
        Agreements.Where(a => a.Providers.Concat(a.Consumers).Contains(odsCode, StringComparer.OrdinalIgnoreCase));

    /// <summary>This snapshot with one organisation replaced (matched by ODS code) and its revision moved on.</summary>
    public RegistrySnapshot With(Organisation organisation, RegistryChange change)
    {
        var revised = organisation with { Revision = (Find(organisation.OdsCode)?.Revision ?? 0) + 1 };
        var index = Organisations.ToList().FindIndex(o => string.Equals(o.OdsCode, organisation.OdsCode, StringComparison.OrdinalIgnoreCase));
        return this with
        {
            Organisations = index < 0 ? [.. Organisations, revised] : [.. Organisations.Take(index), revised, .. Organisations.Skip(index + 1)],
            History = [.. History, change],
        };
    }

    /// <summary>This snapshot with one agreement version replaced (matched by id) or added.</summary>
    public RegistrySnapshot With(SharingAgreement agreement, RegistryChange change)
    {
        var index = Agreements.ToList().FindIndex(a => string.Equals(a.Id, agreement.Id, StringComparison.OrdinalIgnoreCase));
        return this with
        {
            Agreements = index < 0 ? [.. Agreements, agreement] : [.. Agreements.Take(index), agreement, .. Agreements.Skip(index + 1)],
            History = [.. History, change],
        };
    }
}

/// <summary>
/// The organisation registry. Everything that decides what the gateway federates (sources, routes,
/// agreements) reads it through this interface.
/// </summary>
public interface IOrganisationRegistry
{
    /// <summary>The current registry; cheap to call on every request.</summary>
    RegistrySnapshot Current { get; }

    /// <summary>Fires when the registry changes, here or on another instance, so YARP routes follow it without a restart.</summary>
    IChangeToken GetChangeToken();
}
