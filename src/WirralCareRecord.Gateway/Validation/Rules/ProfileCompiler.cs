using System.Globalization;
using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.Validation.Rules;

/// <summary>Turns a snapshot (a flat list of element definitions in document order) into a tree of <see cref="ElementRule"/>s.</summary>
internal static class ProfileCompiler
{
    /// <summary>ele-1 ("a value or children") holds on every element; it is checked directly, far cheaper than as FHIRPath.</summary>
    public const string ElementHasValueOrChildren = "ele-1";

    public static CompiledProfile Compile(StructureDefinition definition)
    {
        var elements = definition.Snapshot?.Element ?? [];
        var url = definition.Url ?? definition.Id ?? "(no url)";
        if (elements.Count == 0)
        {
            throw new InvalidOperationException($"{url} has no snapshot.");
        }

        var problems = new List<string>();
        var root = Rule(elements[0], problems);
        // The definition an element's children attach to is the nearest preceding element with the parent path:
        // in a snapshot a slice's children directly follow the slice.
        var latestByPath = new Dictionary<string, ElementRule>(StringComparer.Ordinal) { [root.Path] = root };
        var firstByPath = new Dictionary<string, ElementRule>(StringComparer.Ordinal) { [root.Path] = root };
        var contentReferences = new List<ElementRule>();
        foreach (var element in elements.Skip(1))
        {
            var dot = element.Path?.LastIndexOf('.') ?? -1;
            if (dot < 0 || !latestByPath.TryGetValue(element.Path![..dot], out var parent))
            {
                problems.Add($"{element.ElementId}: no parent element in the snapshot");
                continue;
            }

            var rule = Rule(element, problems);
            if (!parent.Children.Groups.TryGetValue(rule.Name, out var group))
            {
                parent.Children.Groups[rule.Name] = new ChildGroup(rule);
            }
            else if (rule.SliceName is not null)
            {
                group.Slices.Add(rule);
            }
            else
            {
                group.Definition = rule;
            }

            latestByPath[element.Path] = rule;
            if (rule.SliceName is null)
            {
                firstByPath.TryAdd(element.Path, rule);
            }

            if (rule.ContentReference is not null)
            {
                contentReferences.Add(rule);
            }
        }

        foreach (var rule in contentReferences)
        {
            if (firstByPath.TryGetValue(rule.ContentReference!, out var target))
            {
                // Shared, not copied: Questionnaire.item.item.item... all use the same children.
                rule.Children = target.Children;
            }
            else
            {
                problems.Add($"{rule.Id}: content reference #{rule.ContentReference} not found");
            }
        }

        return new CompiledProfile(definition, root, problems);
    }

    private static ElementRule Rule(ElementDefinition element, List<string> problems)
    {
        var path = element.Path ?? string.Empty;
        var last = path[(path.LastIndexOf('.') + 1)..];
        var isChoice = last.EndsWith("[x]", StringComparison.Ordinal);
        return new ElementRule
        {
            Id = element.ElementId ?? path,
            Path = path,
            Name = isChoice ? last[..^3] : last,
            SliceName = element.SliceName,
            IsChoice = isChoice,
            Min = element.Min ?? 0,
            Max = ParseMax(element.Max ?? element.Base?.Max),
            Types = [.. element.Type.Where(t => t.Code is not null).Select(t => new TypeRule(t.Code!, [.. t.Profile.OfType<string>()], [.. t.TargetProfile.OfType<string>()]))],
            Fixed = element.Fixed,
            Pattern = element.Pattern,
            Binding = element.Binding is { Strength: BindingStrength.Required or BindingStrength.Extensible, ValueSet: { } valueSet } binding
                ? new BindingRule(binding.Strength!.Value, Definitions.CanonicalUrl.Strip(valueSet))
                : null,
            Constraints = [.. Constraints(element, problems)],
            Slicing = element.Slicing is { } slicing
                ? new SlicingRule(
                    [.. slicing.Discriminator.Where(d => d.Type is not null && d.Path is not null).Select(d => new Discriminator(d.Type!.Value, d.Path!))],
                    slicing.Rules ?? ElementDefinition.SlicingRules.Open,
                    slicing.Ordered ?? false)
                : null,
            MaxLength = element.MaxLength,
            ContentReference = element.ContentReference is { } reference ? reference[(reference.IndexOf('#', StringComparison.Ordinal) + 1)..] : null,
        };
    }

    private static IEnumerable<ConstraintRule> Constraints(ElementDefinition element, List<string> problems)
    {
        foreach (var constraint in element.Constraint)
        {
            if (constraint.Key is null or ElementHasValueOrChildren || string.IsNullOrWhiteSpace(constraint.Expression))
            {
                continue;
            }

            var compiled = FhirPathExpressions.TryCompile(constraint.Expression!, out var problem);
            if (compiled is null)
            {
                problems.Add($"{element.ElementId}: invariant {constraint.Key} not checked ({problem})");
            }

            yield return new ConstraintRule(
                constraint.Key,
                constraint.Severity == ConstraintSeverity.Warning ? OperationOutcome.IssueSeverity.Warning : OperationOutcome.IssueSeverity.Error,
                constraint.Human ?? constraint.Key,
                constraint.Expression!,
                compiled)
            {
                Native = NativeInvariants.For(constraint.Key, constraint.Expression!),
            };
        }
    }

    private static int ParseMax(string? max) =>
        max is null or "*" ? int.MaxValue : int.Parse(max, NumberStyles.None, CultureInfo.InvariantCulture);
}
