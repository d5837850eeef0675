using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.SourceAnswers;

namespace WirralCareRecord.Gateway.Tests.Federation;

/// <summary>
/// The combined record as the gateway built it before it streamed (Firely SDK objects throughout): the authority the
/// streamed Bundle is held to. Kept here, not in the gateway, because only the differential test needs it.
/// </summary>
internal static class SdkRecordBundle
{
    private const string ParticipantType = "http://terminology.hl7.org/CodeSystem/provenance-participant-type";

    public static Bundle Build(IReadOnlyList<(SourceResult Result, List<Resource> Resources)> sources, string gatewayBase, string selfUrl, DateTimeOffset now)
    {
        var bundle = new Bundle
        {
            Id = Guid.NewGuid().ToString(),
            Type = Bundle.BundleType.Searchset,
            Timestamp = now,
            Meta = new Meta { LastUpdated = now },
            Link = [new Bundle.LinkComponent { Relation = "self", Url = selfUrl }],
        };

        foreach (var (result, resources) in sources.Where(s => s.Result.Outcome == SourceOutcome.Returned))
        {
            var gatewaySourceBase = GatewayAddresses.SourceBase(gatewayBase, result.OdsCode);
            var rewriter = new AddressRewriter(new SourceLocation(result.Grant.Source.FhirBaseUrl, gatewaySourceBase));
            var targets = new List<ResourceReference>();
            foreach (var resource in resources.Prepend(result.Patient!))
            {
                Rewrite(resource, rewriter.RewriteText);
                resource.Meta ??= new Meta();
                resource.Meta.Source = gatewaySourceBase;
                var fullUrl = $"{gatewaySourceBase}/{resource.TypeName}/{resource.Id}";
                bundle.Entry.Add(new Bundle.EntryComponent
                {
                    FullUrl = fullUrl,
                    Resource = resource,
                    Search = new Bundle.SearchComponent { Mode = resource is Patient ? Bundle.SearchEntryMode.Match : Bundle.SearchEntryMode.Include },
                });
                targets.Add(new ResourceReference(fullUrl));
            }

            bundle.Entry.Add(ProvenanceEntry(result, targets));
        }

        Link(sources.Where(s => s.Result.Outcome == SourceOutcome.Returned).SelectMany(s => s.Resources.Select(resource => (s.Result.OdsCode, resource))));
        bundle.Total = bundle.Entry.Count(e => e.Search?.Mode == Bundle.SearchEntryMode.Match);
        var issues = RecordBundleBuilder.Issues([.. sources.Select(s => s.Result)]);
        if (issues.Count > 0)
        {
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = "urn:uuid:" + Guid.NewGuid(),
                Resource = new OperationOutcome { Id = Guid.NewGuid().ToString(), Issue = issues },
                Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Outcome },
            });
        }

        return bundle;
    }

    private static void Rewrite(Base element, Func<string, string> rewrite)
    {
        if (element is PrimitiveType { JsonValue: string text } primitive && text.Contains("://", StringComparison.Ordinal))
        {
            primitive.JsonValue = rewrite(text);
        }

        foreach (var (_, value) in element.EnumerateElements())
        {
            switch (value)
            {
                case Base child:
                    Rewrite(child, rewrite);
                    break;
                case IEnumerable<Base> children:
                    foreach (var child in children)
                    {
                        Rewrite(child, rewrite);
                    }

                    break;
            }
        }
    }

    private static void Link(IEnumerable<(string OdsCode, Resource Resource)> items)
    {
        var groups = items
            .Select(i => (i.OdsCode, i.Resource, Key: KeyOf(i.Resource)))
            .Where(i => i.Key is not null)
            .GroupBy(i => i.Key)
            .Where(g => g.Select(i => i.OdsCode).Distinct(StringComparer.OrdinalIgnoreCase).Count() > 1)
            .ToList();
        for (var n = 0; n < groups.Count; n++)
        {
            var sources = string.Join(", ", groups[n].Select(i => i.OdsCode).Distinct(StringComparer.OrdinalIgnoreCase));
            foreach (var (_, resource, _) in groups[n])
            {
                (resource.Meta ??= new Meta()).Tag.Add(new Coding(SameItemLinker.TagSystem, $"same-{n + 1}", $"Same item recorded by {sources}"));
            }
        }
    }

    // In parts, not joined with a separator: a code holding the separator must not pass for another code.
    private static (string Kind, string System, string Code, string Day)? KeyOf(Resource resource) => resource switch
    {
        AllergyIntolerance r => Key("allergy", r.Code),
        Condition r => Key("condition", r.Code),
        MedicationStatement r => Key("medicine", r.Medication as CodeableConcept),
        MedicationRequest r => Key("medicine", r.Medication as CodeableConcept),
        Immunization r => Key("immunisation", r.VaccineCode, Day(r.Occurrence)),
        Procedure r => Key("procedure", r.Code, Day(r.Performed)),
        Observation r => Key("observation", r.Code, Day(r.Effective)),
        Encounter r => r.Period?.Start is { Length: >= 10 } start && r.Class?.Code is { } cls ? ("encounter", "", cls, start[..10]) : null,
        _ => null,
    };

    private static (string, string, string, string)? Key(string kind, CodeableConcept? code, string? day = "")
    {
        var coding = code?.Coding.FirstOrDefault(c => !string.IsNullOrEmpty(c.System) && !string.IsNullOrEmpty(c.Code));
        return coding is null || day is null ? null : (kind, coding.System!, coding.Code!, day);
    }

    private static string? Day(DataType? when) => when switch
    {
        FhirDateTime dt when dt.Value is { Length: >= 10 } v => v[..10],
        Period p when p.Start is { Length: >= 10 } v => v[..10],
        _ => null,
    };

    private static Bundle.EntryComponent ProvenanceEntry(SourceResult result, List<ResourceReference> targets)
    {
        var source = result.Grant.Source;
        var provenance = new Provenance
        {
            Id = Guid.NewGuid().ToString(),
            Target = targets,
            Recorded = result.FetchedAt,
            Policy = [.. result.Grant.AgreementIds.Select(id => RecordBundleBuilder.AgreementPolicyBase + id)],
            Agent =
            [
                new Provenance.AgentComponent
                {
                    Type = new CodeableConcept(ParticipantType, "custodian", "Custodian"),
                    Who = new ResourceReference { Identifier = new Identifier(Gateway.Onboarding.OdsCode.System, source.OdsCode), Display = source.Name },
                },
            ],
        };
        return new Bundle.EntryComponent { FullUrl = "urn:uuid:" + provenance.Id, Resource = provenance, Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Include } };
    }
}
