using System.Text.Json;
using WirralCareRecord.Demo.Population;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Demo.Hosting;

/// <summary>
/// Writes the registry seed file the gateway loads: the four sources, live, under one sharing agreement, and the
/// objection to sharing of the hard case who made one.
/// </summary>
internal static class DemoRegistrySeed
{
    public static string Write(DemoSourceSet sources, string folder)
    {
        var today = DateOnly.FromDateTime(DateTime.Today);
        var odsCodes = sources.Sources.Select(s => s.Organisation.OdsCode).ToList();
        var seed = new RegistryDocument
        {
            Organisations = [.. sources.Sources.Select(s => new RegistryDocument.OrganisationEntry
            {
                OdsCode = s.Organisation.OdsCode,
                Name = s.Organisation.Name,
                Kind = s.Organisation.Kind,
                FhirBaseUrl = s.Server.BaseUrl.ToString(),
                Phase = s.Organisation.Phase,
                State = LifecycleState.Live,
            })],

            // Dated from today, so the demo's agreement is always in force however long after it is run.
            Agreements =
            [
                new RegistryDocument.AgreementEntry
                {
                    Id = "WCR-DSA-2026",
                    Version = "1.0",
                    Providers = [.. odsCodes],
                    Consumers = [.. odsCodes],
                    SignedBy = "Wirral Care Record IG lead",
                    SignedOn = today.AddDays(-90),
                    EffectiveFrom = today.AddDays(-90),
                    Expires = today.AddYears(2),
                    DataCategories = [],
                },
            ],

            // The hard case who objected to sharing: told at the practice three weeks ago, so always before today.
            Objections = [.. SyntheticPopulation.People.Where(p => p.HardCase == DemoHardCase.ObjectedToSharing).Select(p => new RegistryDocument.ObjectionEntry
            {
                NhsNumber = p.NhsNumber,
                RecordedOn = today.AddDays(-21),
                RecordedBy = $"{SyntheticPopulation.RiversideMedicalCentre.Name} reception",
            })],
        };

        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "registry.json");
        File.WriteAllText(path, JsonSerializer.Serialize(seed, RegistryDocument.JsonOptions));
        return path;
    }
}
