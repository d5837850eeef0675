using Hl7.Fhir.Model;
using Hl7.FhirPath;

namespace WirralCareRecord.Gateway.Validation.Rules;

/// <summary>A profile compiled for validation: its snapshot as a tree of rules.</summary>
internal sealed class CompiledProfile(StructureDefinition definition, ElementRule root, IReadOnlyList<string> problems)
{
    public string Url { get; } = definition.Url ?? string.Empty;

    /// <summary>The type it constrains (Patient, Extension, HumanName...).</summary>
    public string Type { get; } = definition.Type ?? string.Empty;

    public StructureDefinition Definition { get; } = definition;

    public ElementRule Root { get; } = root;

    /// <summary>What could not be compiled (an invariant the FHIRPath engine does not understand), checked nowhere.</summary>
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>One element definition of a snapshot (a slice is its own rule), with its children by name.</summary>
internal sealed class ElementRule
{
    public required string Id { get; init; }

    public required string Path { get; init; }

    /// <summary>The element's name in instances: the last path segment without <c>[x]</c>.</summary>
    public required string Name { get; init; }

    public string? SliceName { get; init; }

    public bool IsChoice { get; init; }

    public int Min { get; init; }

    /// <summary><see cref="int.MaxValue"/> for <c>*</c>.</summary>
    public int Max { get; init; } = int.MaxValue;

    public IReadOnlyList<TypeRule> Types { get; init; } = [];

    public DataType? Fixed { get; init; }

    public DataType? Pattern { get; init; }

    public BindingRule? Binding { get; init; }

    public IReadOnlyList<ConstraintRule> Constraints { get; init; } = [];

    public SlicingRule? Slicing { get; init; }

    public int? MaxLength { get; init; }

    /// <summary>Where an element re-uses another's definition (<c>Questionnaire.item.item</c>): that element's path.</summary>
    public string? ContentReference { get; init; }

    /// <summary>Children given by the snapshot; empty when they come from the element's type.</summary>
    public ChildSet Children { get; set; } = new();

    public bool HasChildren => Children.Groups.Count > 0;

    public string MaxText => Max == int.MaxValue ? "*" : Max.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public override string ToString() => Id;
}

/// <summary>An element's children by name, and those an instance may not leave out.</summary>
internal sealed class ChildSet
{
    private IReadOnlyList<ChildGroup>? _required;

    public Dictionary<string, ChildGroup> Groups { get; } = new(StringComparer.Ordinal);

    /// <summary>Groups with a minimum above zero, for the group or one of its slices; worked out once, after compilation.</summary>
    public IReadOnlyList<ChildGroup> Required => _required ??= [.. Groups.Values.Where(g => g.Definition.Min > 0 || g.Slices.Any(s => s.Min > 0))];
}

/// <summary>All definitions for one child name: the element itself and, if it is sliced, its slices.</summary>
internal sealed class ChildGroup(ElementRule definition)
{
    public ElementRule Definition { get; set; } = definition;

    public List<ElementRule> Slices { get; } = [];
}

/// <summary>An allowed type, with the profiles its values must meet.</summary>
internal sealed class TypeRule(string code, IReadOnlyList<string> profiles, IReadOnlyList<string> targetProfiles)
{
    public const string SystemTypePrefix = "http://hl7.org/fhirpath/System.";

    public string Code { get; } = code;

    public IReadOnlyList<string> Profiles { get; } = profiles;

    public IReadOnlyList<string> TargetProfiles { get; } = targetProfiles;

    /// <summary>FHIRPath system types (the type of <c>id</c> and <c>Extension.url</c>) hold any primitive.</summary>
    public bool IsSystemType => Code.StartsWith(SystemTypePrefix, StringComparison.Ordinal);

    /// <summary>Resource types a reference may point to, worked out on first use; empty means any.</summary>
    public IReadOnlySet<string>? TargetTypes { get; set; }

    public override string ToString() => Profiles.Count == 0 ? Code : $"{Code}({string.Join("|", Profiles)})";
}

internal sealed record BindingRule(BindingStrength Strength, string ValueSet);

/// <summary>An invariant, compiled once; <see cref="Compiled"/> is null when the FHIRPath engine cannot run it.</summary>
internal sealed record ConstraintRule(string Key, OperationOutcome.IssueSeverity Severity, string Human, string Expression, CompiledExpression? Compiled)
{
    /// <summary>A C# shortcut for a common base invariant (<see cref="NativeInvariants"/>): true or false when it can tell, null otherwise.</summary>
    public Func<Base, bool?>? Native { get; init; }
}

internal sealed record SlicingRule(IReadOnlyList<Discriminator> Discriminators, ElementDefinition.SlicingRules Rules, bool Ordered);

internal sealed record Discriminator(ElementDefinition.DiscriminatorType Type, string Path);
