using System.Text.Json;
using System.Text.Json.Serialization;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Federation;

namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>
/// The registry as stored (one JSON document, changed only with its ETag) and as seeded (the same shape, imported
/// when storage holds no registry yet); see README "Registry".
/// </summary>
public sealed class RegistryDocument
{
    public List<OrganisationEntry> Organisations { get; set; } = [];
    public List<AgreementEntry> Agreements { get; set; } = [];
    public List<ObjectionEntry> Objections { get; set; } = [];
    public List<PhaseEntry> Phases { get; set; } = [];
    public List<RegistryChange> History { get; set; } = [];

    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        WriteIndented = true,
    };

    public sealed class OrganisationEntry
    {
        public string OdsCode { get; set; } = "";
        public string Name { get; set; } = "";
        public OrganisationKind Kind { get; set; }
        public string FhirBaseUrl { get; set; } = "";
        public int Phase { get; set; } = 1;
        public LifecycleState State { get; set; }
        public double? TimeoutSeconds { get; set; }
        public int? StaffCount { get; set; }
        public List<OrganisationContact> Contacts { get; set; } = [];
        public FlowTestSummary? LastFlowTest { get; set; }
        public SourceAuthentication? Authentication { get; set; }

        /// <summary>Optional: the organisation's record system for SMART context launch (absent in older registries).</summary>
        public RecordSystem? RecordSystem { get; set; }

        public int Revision { get; set; } = 1;
        public ProposedConnectionChange? PendingConnectionChange { get; set; }
        public LifecycleState? ResumeAfterFlowTest { get; set; }
    }

    public sealed class PhaseEntry
    {
        public int Number { get; set; }
        public string Name { get; set; } = "";
        public PhaseStatus Status { get; set; } = PhaseStatus.Open;
    }

    public sealed class AgreementEntry
    {
        public string Id { get; set; } = "";
        public string Version { get; set; } = "1";
        public List<string> Providers { get; set; } = [];
        public List<string> Consumers { get; set; } = [];
        public string SignedBy { get; set; } = "";
        public DateOnly SignedOn { get; set; }
        public DateOnly EffectiveFrom { get; set; }
        public DateOnly Expires { get; set; }
        public bool Revoked { get; set; }
        public List<string> DataCategories { get; set; } = [];
        public List<string> Purposes { get; set; } = [SharingAgreement.DirectCare];
        public DateOnly? ReviewOn { get; set; }
        public AgreementDocument? Document { get; set; }
    }

    public sealed class ObjectionEntry
    {
        public string NhsNumber { get; set; } = "";
        public DateOnly RecordedOn { get; set; }
        public string RecordedBy { get; set; } = "";
    }

    public static RegistryDocument FromSnapshot(RegistrySnapshot snapshot) => new()
    {
        Organisations = [.. snapshot.Organisations.Select(o => new OrganisationEntry
        {
            OdsCode = o.OdsCode, Name = o.Name, Kind = o.Kind, FhirBaseUrl = o.FhirBaseUrl.ToString().TrimEnd('/'),
            Phase = o.Phase, State = o.State, TimeoutSeconds = o.Timeout?.TotalSeconds, StaffCount = o.StaffCount,
            Contacts = [.. o.Contacts], LastFlowTest = o.LastFlowTest, Revision = o.Revision,
            Authentication = o.Authentication.Mode == SourceAuthenticationMode.None ? null : o.Authentication,
            PendingConnectionChange = o.PendingConnectionChange, ResumeAfterFlowTest = o.ResumeAfterFlowTest,
            RecordSystem = o.RecordSystem,
        })],
        Agreements = [.. snapshot.Agreements.Select(a => new AgreementEntry
        {
            Id = a.Id, Version = a.Version, Providers = [.. a.Providers], Consumers = [.. a.Consumers],
            SignedBy = a.SignedBy, SignedOn = a.SignedOn, EffectiveFrom = a.EffectiveFrom, Expires = a.Expires,
            Revoked = a.Revoked, DataCategories = [.. a.DataCategories], Purposes = [.. a.Purposes], ReviewOn = a.ReviewOn, Document = a.Document,
        })],
        Objections = [.. snapshot.Objections.Select(o => new ObjectionEntry { NhsNumber = o.NhsNumber, RecordedOn = o.RecordedOn, RecordedBy = o.RecordedBy })],
        Phases = [.. snapshot.Phases.Select(p => new PhaseEntry { Number = p.Number, Name = p.Name, Status = p.Status })],
        History = [.. snapshot.History],
    };

    /// <summary>Checks the file and turns it into a snapshot; every problem is reported at once, by position.</summary>
    public RegistrySnapshot ToSnapshot()
    {
        var problems = new List<string>();
        var organisations = new List<Organisation>();
        for (var i = 0; i < Organisations.Count; i++)
        {
            var o = Organisations[i];
            if (!OdsCode.IsValid(o.OdsCode))
            {
                problems.Add($"organisations[{i}].odsCode '{o.OdsCode}' is not an ODS code");
                continue;
            }

            if (!Uri.TryCreate(o.FhirBaseUrl, UriKind.Absolute, out var baseUrl) || (baseUrl.Scheme != Uri.UriSchemeHttp && baseUrl.Scheme != Uri.UriSchemeHttps))
            {
                problems.Add($"organisations[{i}] ({o.OdsCode}) fhirBaseUrl '{o.FhirBaseUrl}' is not an absolute http(s) URL");
                continue;
            }

            if (o.Authentication?.Problems() is { Count: > 0 } authenticationProblems)
            {
                problems.Add($"organisations[{i}] ({o.OdsCode}): {string.Join(" ", authenticationProblems)}");
                continue;
            }

            if (o.RecordSystem is { } system
                && (!Uri.TryCreate(system.Issuer, UriKind.Absolute, out var issuer) || (issuer.Scheme != Uri.UriSchemeHttp && issuer.Scheme != Uri.UriSchemeHttps) || string.IsNullOrWhiteSpace(system.ClientId)))
            {
                problems.Add($"organisations[{i}] ({o.OdsCode}) recordSystem needs an absolute http(s) issuer and a clientId");
                continue;
            }

            if (o.RecordSystem is { } launchSystem && organisations.Any(x => x.RecordSystem?.Issued(launchSystem.Issuer) == true))
            {
                // A launch must name exactly one organisation, or the wrong organisation's agreements would apply.
                problems.Add($"organisations[{i}] ({o.OdsCode}) recordSystem issuer '{launchSystem.Issuer}' belongs to another organisation already");
                continue;
            }

            if (organisations.Any(x => string.Equals(x.OdsCode, o.OdsCode, StringComparison.OrdinalIgnoreCase)))
            {
                problems.Add($"organisations[{i}] ({o.OdsCode}) appears more than once");
                continue;
            }

            organisations.Add(new Organisation(
                o.OdsCode.ToUpperInvariant(), o.Name, o.Kind, new Uri(o.FhirBaseUrl.TrimEnd('/')), o.Phase, o.State,
                o.TimeoutSeconds is > 0 ? TimeSpan.FromSeconds(o.TimeoutSeconds.Value) : null, o.StaffCount)
            {
                Contacts = [.. o.Contacts],
                LastFlowTest = o.LastFlowTest,
                Revision = Math.Max(1, o.Revision),
                Authentication = o.Authentication ?? SourceAuthentication.None,
                PendingConnectionChange = o.PendingConnectionChange,
                ResumeAfterFlowTest = o.ResumeAfterFlowTest,
                RecordSystem = o.RecordSystem is { } own ? own with { Issuer = own.Issuer.TrimEnd('/') } : null,
            });
        }

        var agreements = new List<SharingAgreement>();
        for (var i = 0; i < Agreements.Count; i++)
        {
            var a = Agreements[i];
            if (string.IsNullOrWhiteSpace(a.Id))
            {
                problems.Add($"agreements[{i}] has no id");
                continue;
            }

            if (a.Expires < a.EffectiveFrom)
            {
                problems.Add($"agreements[{i}] ({a.Id}) expires before it takes effect");
            }

            agreements.Add(new SharingAgreement(
                a.Id, a.Version, [.. a.Providers.Select(p => p.ToUpperInvariant())], [.. a.Consumers.Select(c => c.ToUpperInvariant())],
                a.SignedBy, a.SignedOn, a.EffectiveFrom, a.Expires, a.Revoked, [.. a.DataCategories])
            {
                Purposes = a.Purposes.Count == 0 ? [SharingAgreement.DirectCare] : [.. a.Purposes],
                ReviewOn = a.ReviewOn,
                Document = a.Document,
            });
        }

        var objections = new List<Objection>();
        for (var i = 0; i < Objections.Count; i++)
        {
            var check = PatientMatching.NhsNumber.Check(Objections[i].NhsNumber);
            if (check.IsValid)
            {
                objections.Add(new Objection(check.Value!, Objections[i].RecordedOn, Objections[i].RecordedBy));
            }
            else
            {
                // An objection that cannot be read must stop the registry loading: ignoring it would share against the patient's wishes.
                problems.Add($"objections[{i}]: {check.Problem}");
            }
        }

        var phases = Phases.Select(p => new Phase(p.Number, p.Name, p.Status)).ToList();
        foreach (var number in phases.GroupBy(p => p.Number).Where(g => g.Count() > 1).Select(g => g.Key))
        {
            problems.Add($"phase {number} is defined more than once");
        }

        return problems.Count == 0
            ? new RegistrySnapshot(organisations, agreements, objections) { Phases = phases, History = [.. History] }
            : throw new InvalidDataException("The registry is not valid: " + string.Join("; ", problems) + ".");
    }
}
