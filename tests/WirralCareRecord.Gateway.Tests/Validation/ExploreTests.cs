using Hl7.Fhir.Model;
using Xunit.Abstractions;

namespace WirralCareRecord.Gateway.Tests.Validation;

public class ExploreTests(ITestOutputHelper output)
{
    [Fact]
    public void Explore_UkCoreExamples()
    {
        var lines = new List<string>();
        var ok = 0;
        foreach (var file in Directory.EnumerateFiles(Definitions.Fixture("ukcore-examples"), "*.xml").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(file);
            var (resource, problems) = Definitions.Read(file);
            if (resource is null) { lines.Add($"UNREADABLE {name}: {string.Join(";", problems)}"); continue; }
            var outcome = Definitions.Engine.Validate(resource, UkCoreExamples.ProfileFor(name, resource.TypeName));
            if (outcome.Success) ok++;
            foreach (var i in outcome.Issue.Where(i => i.Severity != OperationOutcome.IssueSeverity.Information || !(i.Diagnostics ?? i.Details?.Text ?? "").StartsWith("Not checked")))
                lines.Add($"{name} {i.Severity} {i.Code} [{i.Details?.Coding.FirstOrDefault()?.Code}] @{string.Join(",", i.Expression)} loc={string.Join(",", i.Location)}: {i.Details?.Text} | {i.Diagnostics}");
        }
        lines.Add($"OK {ok}"); output.WriteLine($"OK {ok}");
        File.WriteAllLines("/tmp/explore-ukcore.txt", lines);
    }
}

public class ExploreRefTests(ITestOutputHelper output)
{
    [Fact]
    public void Explore_StandIn()
    {
        var condition = WirralCareRecord.Gateway.Tests.Common.ClinicalData.Condition("c1", "p1");
        condition.Subject = new ResourceReference("Practitioner/dr-patel");
        condition.Encounter = new ResourceReference("Encounter/e1");
        foreach (var i in Definitions.Engine.Validate(condition).Issue)
            output.WriteLine($"{i.Severity} {i.Code} @{string.Join(",", i.Expression)} loc={string.Join(",", i.Location)}: {i.Details?.Text} | {i.Diagnostics}");
        File.WriteAllLines("/tmp/explore-ref.txt", Definitions.Engine.Validate(condition).Issue.Select(i => $"{i.Severity} {i.Code} @{string.Join(",", i.Expression)} loc={string.Join(",", i.Location)}: {i.Details?.Text} | {i.Diagnostics}"));
    }
}

public class ExploreResolveTests
{
    [Fact]
    public void Explore_Resolve()
    {
        var lines = new List<string>();
        var condition = WirralCareRecord.Gateway.Tests.Common.ClinicalData.Condition("c1", "p1");
        lines.AddRange(Definitions.Engine.Validate(condition).Issue.Select(i => i.Diagnostics ?? ""));
        foreach (var url in new[] { "http://hl7.org/fhir/6.0/StructureDefinition/extension-Condition.bodyStructure", "http://hl7.org/fhir/5.0/StructureDefinition/extension-DiagnosticReport.note", "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ConditionBodyStructure" })
        {
            var r = Definitions.Engine.Resolve(url) as StructureDefinition;
            lines.Add($"{url}: {r?.Url} snapshot={r?.Snapshot?.Element.Count}");
        }
        File.WriteAllLines("/tmp/explore-resolve.txt", lines);
    }
}
