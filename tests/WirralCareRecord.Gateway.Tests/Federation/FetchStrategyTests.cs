using System.Net;
using Hl7.Fhir.Model;
using Microsoft.Extensions.DependencyInjection;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.Federation;

/// <summary>
/// Fewest calls per source: each source's CapabilityStatement decides between one <c>_revinclude</c> search, a batch, or a
/// search per type, and whichever is used the record is the same, with every safety filter applied.
/// </summary>
public sealed class FetchStrategyTests : IDisposable
{
    private const string Nhs = "9000000009";
    private static readonly string[] RecordTypes = [.. FederationOptions.DefaultRecordTypes];
    private readonly TestIssuer _issuer = new();
    private readonly List<FhirSource> _sources = [];

    public enum Capability
    {
        RevInclude,
        Batch,
        None,
        Unreadable,
    }

    /// <summary>One GP source holding the same record however it is asked: items of two types, one restricted, one about someone else.</summary>
    private FhirSource Source(Capability capability)
    {
        var source = new FhirSource("N85002", "Hoylake Road Surgery", OrganisationKind.GpPractice);
        _sources.Add(source);
        var restricted = ClinicalData.Condition("restricted", "gp-1", "35489007", "Depressive disorder");
        restricted.Meta = new Meta { Security = [new Coding("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R")] };
        source.WithPatient(
            FhirSource.NewPatient("gp-1", Nhs),
            ClinicalData.Condition("c1", "gp-1"),
            restricted,
            ClinicalData.Condition("someone-else", "gp-2"),
            ClinicalData.Allergy("a1", "gp-1"),
            ClinicalData.Medication("m1", "gp-1"));
        switch (capability)
        {
            case Capability.RevInclude:
                source.WithCapabilityStatement(RecordTypes, RecordTypes, batch: true).ServingRevInclude().ServingBatch();
                break;
            case Capability.Batch:
                source.WithCapabilityStatement(RecordTypes, [], batch: true).ServingBatch();
                break;
            case Capability.None:
                source.WithCapabilityStatement(RecordTypes);
                break;
            case Capability.Unreadable:
                // No CapabilityStatement at all: the /metadata search answers an empty Bundle, as the default test source does.
                break;
        }

        return source;
    }

    private GatewayHost Host(params FhirSource[] sources) => new(_issuer, sources);

    private async Task<Bundle> ReadAsync(GatewayHost host, string query = "")
    {
        var response = await host.CreateClient(_issuer.CreateToken()).GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}{query}");
        return await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
    }

    [Theory]
    [InlineData(Capability.RevInclude, 1)]
    [InlineData(Capability.Batch, 2)]
    [InlineData(Capability.None, 10)]
    [InlineData(Capability.Unreadable, 10)]
    public async Task GetRecord_SourceCapabilities_ChooseTheCheapestStrategyAndAuditItsCalls(Capability capability, int expectedCalls)
    {
        var source = Source(capability);
        using var host = Host(source);

        var bundle = await ReadAsync(host);

        Assert.Contains(bundle.Entry, e => e.Resource is Condition { Id: "c1" });
        // Failed once in a full run, cause not seen: the calls the source received are shown if it fails again.
        Assert.True(source.DataRequests.Count == expectedCalls, $"{source.DataRequests.Count} calls, not {expectedCalls}: {string.Join(" | ", source.RequestedPaths)}");
        var entity = Assert.Single(host.AuditEvents().Single().Entity, e => e.What?.Identifier?.Value == "N85002");
        Assert.Equal(expectedCalls.ToString(System.Globalization.CultureInfo.InvariantCulture), ((FhirString)entity.Detail.Single(d => d.Type == "calls").Value).Value);
    }

    [Fact]
    public async Task GetRecord_EveryStrategy_GivesTheSameRecordWithTheSameItemsWithheld()
    {
        var answers = new List<(Capability, string[] Entries, string Issues)>();
        foreach (var capability in Enum.GetValues<Capability>())
        {
            var source = Source(capability);
            using var host = Host(source);

            var bundle = await ReadAsync(host);

            // Entries as a reader sees them: address and content. Provenance differs only in its id and time, so it is left out.
            var entries = bundle.Entry
                .Where(e => e.Resource is not Provenance and not OperationOutcome)
                .Select(e => e.FullUrl + " " + FhirJson.Serialize(e.Resource!))
                .Order(StringComparer.Ordinal)
                .ToArray();
            answers.Add((capability, entries, string.Join(" | ", bundle.SourceIssues().Select(i => i.Diagnostics))));
            source.Dispose();
            _sources.Remove(source);
        }

        var (_, expected, expectedIssues) = answers[0];
        Assert.Equal(4, expected.Length);
        Assert.DoesNotContain(expected, e => e.Contains("someone-else", StringComparison.Ordinal) || e.Contains("35489007", StringComparison.Ordinal));
        Assert.Contains("2 item(s) were withheld", expectedIssues, StringComparison.Ordinal);
        Assert.All(answers, answer =>
        {
            Assert.Equal(expected, answer.Entries);
            Assert.Equal(expectedIssues, answer.Issues);
        });
    }

    [Theory]
    [InlineData(Capability.RevInclude, 2)]
    [InlineData(Capability.Batch, 3)]
    [InlineData(Capability.None, 11)]
    public async Task GetRecord_MergedRecordAtSource_IsFollowedOnceByEveryStrategy(Capability capability, int expectedCalls)
    {
        var source = new FhirSource("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);
        _sources.Add(source);
        var retired = FhirSource.NewPatient("pas-old", Nhs);
        retired.Link = [new Patient.LinkComponent { Type = Patient.LinkType.ReplacedBy, Other = new ResourceReference("Patient/pas-new") }];
        var survivor = FhirSource.NewPatient("pas-new", Nhs);
        source.WithPatient(retired, ClinicalData.Encounter("e-old", "pas-old"))
            .WithRead(survivor)
            .WithSearch("Encounter", "pas-new", [ClinicalData.Encounter("e-new", "pas-new")]);
        _ = capability switch
        {
            Capability.RevInclude => source.WithCapabilityStatement(RecordTypes, RecordTypes, batch: false).ServingRevInclude(),
            Capability.Batch => source.WithCapabilityStatement(RecordTypes, [], batch: true).ServingBatch(),
            _ => source.WithCapabilityStatement(RecordTypes),
        };
        using var host = Host(source);

        var bundle = await ReadAsync(host);

        Assert.Contains(bundle.Entry, e => e.Resource is Patient { Id: "pas-new" });
        Assert.Contains(bundle.Entry, e => e.Resource is Encounter { Id: "e-new" });
        Assert.DoesNotContain(bundle.Entry, e => e.Resource is Encounter { Id: "e-old" });
        Assert.Equal(expectedCalls, source.DataRequests.Count);
    }

    [Fact]
    public async Task GetRecord_RevIncludeSearch_AsksTheSourceToRefuseRatherThanIgnoreParameters()
    {
        var source = Source(Capability.RevInclude);
        using var host = Host(source);

        await ReadAsync(host);

        var request = Assert.Single(source.DataRequests).RequestMessage!;
        Assert.Equal("handling=strict", request.Headers!["Prefer"].ToString());
        Assert.Equal(RecordTypes.Select(t => t + ":patient").Order(StringComparer.Ordinal), request.Query!["_revinclude"].Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task GetRecord_BatchWithAFailedSearch_FailsThatSourceAndNamesIt()
    {
        var gp = new FhirSource("N85002", "Hoylake Road Surgery", OrganisationKind.GpPractice);
        var acute = new FhirSource("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);
        _sources.AddRange([gp, acute]);
        gp.WithPatient(FhirSource.NewPatient("gp-1", Nhs), ClinicalData.Condition("c1", "gp-1"))
            .WithCapabilityStatement(RecordTypes, [], batch: true)
            .ServingBatch(failType: "Observation");
        acute.WithPatient(FhirSource.NewPatient("pas-1", Nhs), ClinicalData.Encounter("e1", "pas-1"));
        using var host = Host(gp, acute);

        var bundle = await ReadAsync(host);

        Assert.DoesNotContain(bundle.Entry, e => e.Resource is Condition { Id: "c1" });
        var issue = Assert.Single(bundle.SourceIssues());
        Assert.Equal("failed", issue.Details.Coding.Single().Code);
        Assert.Contains("(N85002)", issue.Diagnostics, StringComparison.Ordinal);
        Assert.Contains("Observation search in a batch", issue.Diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRecord_CapabilityStatement_IsReadOnceAndAgainAfterARegistryChange()
    {
        var source = Source(Capability.RevInclude);
        using var host = Host(source);
        // The gateway's own reads carry X-Request-ID; YARP's health probes of /metadata do not.
        int CapabilityReads() => source.Server.LogEntries.Count(e => e.RequestMessage?.Path == "/fhir/metadata" && e.RequestMessage.Headers?.ContainsKey("X-Request-ID") == true);

        await ReadAsync(host);
        await ReadAsync(host, "&sweep=true");
        Assert.Equal(1, CapabilityReads());

        var registry = host.Services.GetRequiredService<ManagedOrganisationRegistry>();
        await registry.UpdateAsync(
            r => r.With(r.Find("N85002")! with { Name = "Hoylake Road Surgery (new system)" }, new RegistryChange("Organization/N85002", "details updated", DateTimeOffset.UtcNow, "test", "supplier change")),
            null,
            default);
        await ReadAsync(host);

        Assert.Equal(2, CapabilityReads());
    }

    [Theory]
    [InlineData(new[] { "Condition:patient", "AllergyIntolerance:patient" }, true, FetchStrategy.RevInclude)]
    [InlineData(new[] { "*" }, false, FetchStrategy.RevInclude)]
    [InlineData(new[] { "Condition:patient" }, true, FetchStrategy.Batch)]
    [InlineData(new[] { "Condition:subject", "AllergyIntolerance:patient" }, false, FetchStrategy.PerType)]
    [InlineData(new string[0], false, FetchStrategy.PerType)]
    public void StrategyFor_Capabilities_PicksTheCheapestSupported(string[] revIncludes, bool batch, FetchStrategy expected)
    {
        var capability = new SourceCapability(true, revIncludes.ToHashSet(StringComparer.Ordinal), batch, DateTimeOffset.UtcNow);

        Assert.Equal(expected, capability.StrategyFor(["Condition", "AllergyIntolerance"]));
        Assert.Equal(FetchStrategy.PerType, SourceCapability.Unknown(DateTimeOffset.UtcNow).StrategyFor(["Condition"]));
    }

    public void Dispose()
    {
        _sources.ForEach(s => s.Dispose());
        _issuer.Dispose();
    }
}
