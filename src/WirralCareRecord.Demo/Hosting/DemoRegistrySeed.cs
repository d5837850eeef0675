using System.Security.Cryptography;
using System.Text.Json;
using WirralCareRecord.Demo.Population;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Storage;

namespace WirralCareRecord.Demo.Hosting;

/// <summary>
/// Writes the registry the demo gateway starts from, as the roll-out plan has it: phase 1 live (the hospital and two
/// practices) with a third practice signed and awaiting its flow test, phase 2 the community trust in pilot, phase 3 a
/// social care organisation registered only; one agreement with its signed PDF; and the objection of the hard case who made one.
/// </summary>
internal static class DemoRegistrySeed
{
    private const string AgreementId = "WCR-DSA-2026";
    private const string AgreementVersion = "1.0";

    /// <summary>Registered only: it has no system to call yet, so its address is one that can never answer.</summary>
    private static readonly RegistryDocument.OrganisationEntry SocialCare = new()
    {
        OdsCode = "WSC001",
        Name = "Wirral Council Adult Social Care",
        Kind = OrganisationKind.SocialCare,
        FhirBaseUrl = "https://social-care.wirral.invalid/fhir",
        Phase = 3,
        State = LifecycleState.Registered,
        StaffCount = 420,
    };

    /// <summary>The signed agreement as the demo's onboarding team scanned it.</summary>
    private static byte[] SignedAgreementPdf { get; } = System.Text.Encoding.ASCII.GetBytes(
        $"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n% {AgreementId} v{AgreementVersion}: Wirral Care Record data sharing agreement (demo)\ntrailer << /Root 1 0 R >>\n%%EOF\n");

    private static string DocumentBlobName => $"{AgreementId}/v{AgreementVersion}/{Convert.ToHexStringLower(SHA256.HashData(SignedAgreementPdf))}.pdf";

    /// <param name="practice">A practice's own record system, registered as that practice's SMART launch issuer; none when null.</param>
    public static string Write(DemoSourceSet sources, string folder, PracticeSystem.DemoPracticeSystem? practice = null)
    {
        var today = DateOnly.FromDateTime(DateTime.Today);
        var states = new Dictionary<string, LifecycleState>
        {
            [SyntheticPopulation.LiscardGroupPractice.OdsCode] = LifecycleState.AgreementSigned,
            [SyntheticPopulation.WirralCommunityHealthAndCare.OdsCode] = LifecycleState.Pilot,
        };
        var odsCodes = sources.Sources.Select(s => s.Organisation.OdsCode).ToList();
        var seed = new RegistryDocument
        {
            Phases =
            [
                new() { Number = 1, Name = "The hospital and the pilot practices" },
                new() { Number = 2, Name = "The community trust" },
                new() { Number = 3, Name = "Social care and mental health", Status = PhaseStatus.Held },
            ],
            Organisations = [.. sources.Sources.Select(s => new RegistryDocument.OrganisationEntry
            {
                OdsCode = s.Organisation.OdsCode,
                Name = s.Organisation.Name,
                Kind = s.Organisation.Kind,
                FhirBaseUrl = s.Server.BaseUrl.ToString(),
                Phase = s.Organisation.Phase,
                State = states.GetValueOrDefault(s.Organisation.OdsCode, LifecycleState.Live),
                StaffCount = s.Organisation.Kind == OrganisationKind.GpPractice ? 35 : 2400,
                LastFlowTest = s.Organisation == SyntheticPopulation.LiscardGroupPractice
                    ? null
                    : new FlowTestSummary("seeded", DateTimeOffset.UtcNow.AddDays(-7), true, "Passed before the demo registry was written."),
                RecordSystem = practice is not null && practice.Practice.OdsCode == s.Organisation.OdsCode
                    ? new RecordSystem(practice.Issuer, PracticeSystem.DemoPracticeSystem.ClientId)
                    : null,
            }), SocialCare],

            // Dated from today, so the demo's agreement is always in force however long after it is run.
            Agreements =
            [
                new RegistryDocument.AgreementEntry
                {
                    Id = AgreementId,
                    Version = AgreementVersion,
                    Providers = [.. odsCodes],
                    Consumers = [.. odsCodes],
                    SignedBy = "Wirral Care Record IG lead",
                    SignedOn = today.AddDays(-90),
                    EffectiveFrom = today.AddDays(-90),
                    Expires = today.AddYears(2),
                    ReviewOn = today.AddYears(1),
                    DataCategories = [],
                    Document = new AgreementDocument(DocumentBlobName, Convert.ToHexStringLower(SHA256.HashData(SignedAgreementPdf)), SignedAgreementPdf.Length, "application/pdf", DateTimeOffset.UtcNow.AddDays(-90), "Wirral Care Record onboarding team"),
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

    /// <summary>Stores the signed PDF the seed's agreement refers to (once; it is the same bytes every run).</summary>
    public static async Task StoreDocumentAsync(IBlobStores stores)
    {
        try
        {
            await stores[StorageContainer.Agreements].WriteAsync(DocumentBlobName, BinaryData.FromBytes(SignedAgreementPdf), expectedETag: null, "application/pdf", CancellationToken.None);
        }
        catch (StorageConflictException)
        {
            // Stored by an earlier run: documents are never overwritten, and these bytes are the same.
        }
    }
}
