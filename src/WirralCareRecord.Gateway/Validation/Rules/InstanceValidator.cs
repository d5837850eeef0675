using System.Text.RegularExpressions;
using Hl7.Fhir.ElementModel;
using Hl7.Fhir.FhirPath;
using Hl7.Fhir.Model;
using Hl7.FhirPath;
using WirralCareRecord.Gateway.Validation.Terminology;
using IssueType = Hl7.Fhir.Model.OperationOutcome.IssueType;

namespace WirralCareRecord.Gateway.Validation.Rules;

/// <summary>
/// Walks one instance (as the SDK's <see cref="PocoNode"/> tree, which FHIRPath evaluates over) against compiled
/// profiles: cardinality, types and choice types, fixed and pattern values, slicing, bindings, invariants and
/// references. Locations are FHIRPath: <c>Patient.identifier[0].system</c>, <c>Observation.value.ofType(Quantity)</c>.
/// A missing element is reported at its parent, naming the element. One validator per validation; not thread-safe.
/// </summary>
internal sealed partial class InstanceValidator(ValidationEngine engine, IssueCollector issues, Bundle? bundle = null)
{
    private readonly FhirEvaluationContext _context = new();

    /// <summary>Validates a resource against a profile of its type.</summary>
    public void ValidateResource(PocoNode node, string location, CompiledProfile profile)
    {
        var type = ((Resource)node.Poco).TypeName;
        if (profile.Type != type && profile.Type is not ("Resource" or "DomainResource"))
        {
            issues.Error(IssueType.Invalid, location, $"{profile.Url} is a profile of {profile.Type}, not of {type}.");
            return;
        }

        var root = profile.Root;
        CheckConstraints(node, location, root.Constraints);
        ValidateChildren(node, location, root.Children, root);
    }

    private void ValidateElement(PocoNode node, string location, ElementRule rule)
    {
        var poco = node.Poco;
        if (poco is Resource)
        {
            ValidateNestedResource(node, location, rule);
            return;
        }

        var instanceType = TypeName(node);
        TypeRule? type = null;
        if (rule.Types.Count > 0 && !IsBackbone(rule))
        {
            type = rule.Types.FirstOrDefault(t => TypeMatches(t, instanceType, poco));
            if (type is null)
            {
                issues.Error(IssueType.Structure, location, $"{rule.Id}: type '{instanceType}' is not allowed here; expected {string.Join(" or ", rule.Types.Select(t => t.Code).Distinct())}.");
                return;
            }
        }

        var typeProfile = type is null || type.IsSystemType ? null : TypeProfile(type, instanceType, location);
        var hasChildren = HasChildren(node);
        if (poco is PrimitiveType primitive)
        {
            CheckPrimitive(primitive, instanceType, location, rule, hasChildren);
        }
        else if (!hasChildren)
        {
            issues.Error(IssueType.Invalid, location, $"{rule.Id}: ele-1: an element must have a value or children.");
        }

        if (rule.Fixed is { } fixedValue && !ValueMatcher.Matches(poco, fixedValue, exact: true))
        {
            issues.Error(IssueType.Value, location, $"{rule.Id}: the value must be exactly {ValueMatcher.Describe(fixedValue)}.");
        }

        if (rule.Pattern is { } pattern && !ValueMatcher.Matches(poco, pattern, exact: false))
        {
            issues.Error(IssueType.Value, location, $"{rule.Id}: the value must match {ValueMatcher.Describe(pattern)}.");
        }

        if (poco is Coding { System: { } system, Code: { } code } coding)
        {
            CheckCoding(coding, system, code, location, rule);
        }

        if (rule.Binding is { } binding)
        {
            CheckBinding(poco, binding, location, rule);
        }

        CheckConstraints(node, location, rule.Constraints);
        if (typeProfile is not null)
        {
            CheckConstraints(node, location, typeProfile.Root.Constraints, except: rule.Constraints);
        }

        if (poco is ResourceReference reference && type is not null)
        {
            CheckReference(node, reference, type, location, rule);
        }

        var children = rule.HasChildren ? rule.Children : typeProfile?.Root.Children;
        if (children is not null && hasChildren)
        {
            ValidateChildren(node, location, children, rule);
        }
        else if (children is not null && poco is not PrimitiveType)
        {
            ReportMissing(children, location, present: null);
        }
    }

    private void ValidateNestedResource(PocoNode node, string location, ElementRule rule)
    {
        var resource = (Resource)node.Poco;
        var type = rule.Types.FirstOrDefault(t => t.Code == resource.TypeName) ?? rule.Types.FirstOrDefault(t => t.Code is "Resource" or "DomainResource");
        if (rule.Types.Count > 0 && type is null)
        {
            issues.Error(IssueType.Structure, location, $"{rule.Id}: a {resource.TypeName} is not allowed here; expected {string.Join(" or ", rule.Types.Select(t => t.Code))}.");
            return;
        }

        var profiles = (type?.Profiles ?? []).Select(engine.Profile).OfType<CompiledProfile>().Where(p => p.Type == resource.TypeName).ToList();
        if (profiles.Count == 0)
        {
            profiles = [.. engine.DeclaredProfiles(resource, location, issues)];
        }

        if (profiles.Count == 0 && engine.BaseProfile(resource.TypeName) is { } baseProfile)
        {
            profiles.Add(baseProfile);
        }

        if (node.Name == "contained")
        {
            foreach (var profile in profiles)
            {
                ValidateResource(node, location, profile);
            }

            return;
        }

        // A resource in a Bundle entry or a Parameters parameter is a resource in its own right, not contained:
        // its invariants see it as %resource and %rootResource. So it is validated as a tree of its own, keeping the
        // Bundle at hand to resolve references between entries.
        var root = resource.ToPocoNode();
        var inner = new InstanceValidator(engine, issues, BundleOf(node) ?? bundle);
        foreach (var profile in profiles)
        {
            inner.ValidateResource(root, location, profile);
        }
    }

    private void ValidateChildren(PocoNode node, string location, ChildSet children, ElementRule parent)
    {
        List<ChildGroup>? present = null;
        foreach (var (name, items) in ChildrenOf(node))
        {
            if (!children.Groups.TryGetValue(name, out var group))
            {
                issues.Error(IssueType.Structure, $"{location}.{name}", $"{parent.Id}: there is no element '{name}' here.");
                continue;
            }

            ValidateGroup(group, items, location);
            if (name is "extension" or "modifierExtension")
            {
                foreach (var item in items)
                {
                    CheckExtensionContext(node, parent, item, Location(location, item, group.Definition));
                }
            }

            if (children.Required.Contains(group))
            {
                (present ??= []).Add(group);
            }
        }

        ReportMissing(children, location, present);
    }

    /// <summary>Groups the instance leaves out entirely, checked for their minimum (and their slices').</summary>
    private void ReportMissing(ChildSet children, string location, List<ChildGroup>? present)
    {
        foreach (var group in children.Required)
        {
            if (present?.Contains(group) != true)
            {
                ValidateGroup(group, [], location);
            }
        }
    }

    private void ValidateGroup(ChildGroup group, List<PocoNode> items, string parentLocation)
    {
        var definition = group.Definition;
        CheckCardinality(definition, items.Count, parentLocation);
        if (group.Slices.Count == 0 || definition.Slicing is not { } slicing)
        {
            foreach (var item in items)
            {
                ValidateItem(item, Location(parentLocation, item, definition), definition);
            }

            return;
        }

        var counts = new int[group.Slices.Count];
        var lastSlice = -1;
        var unmatchedSeen = false;
        foreach (var item in items)
        {
            var location = Location(parentLocation, item, definition);
            var slice = FindSlice(item, group, slicing);
            if (slice < 0)
            {
                unmatchedSeen = true;
                if (slicing.Rules == ElementDefinition.SlicingRules.Closed)
                {
                    issues.Error(IssueType.Structure, location, $"{definition.Id}: this item matches none of the slices ({string.Join(", ", group.Slices.Select(s => s.SliceName))}) and the slicing is closed.");
                }

                ValidateItem(item, location, definition);
                continue;
            }

            if ((slicing.Ordered && slice < lastSlice) || (slicing.Rules == ElementDefinition.SlicingRules.OpenAtEnd && unmatchedSeen))
            {
                issues.Error(IssueType.Structure, location, $"{group.Slices[slice].Id}: this item is out of the order the slicing requires.");
            }

            lastSlice = slice;
            counts[slice]++;
            ValidateElement(item, Location(parentLocation, item, group.Slices[slice]), group.Slices[slice]);
        }

        for (var i = 0; i < counts.Length; i++)
        {
            CheckCardinality(group.Slices[i], counts[i], parentLocation);
        }
    }

    private void CheckCardinality(ElementRule rule, int count, string parentLocation)
    {
        if (count < rule.Min)
        {
            issues.Error(IssueType.Required, parentLocation, $"{rule.Id}: minimum required = {rule.Min}, but only found {count}.");
        }
        else if (count > rule.Max)
        {
            issues.Error(IssueType.Structure, parentLocation, $"{rule.Id}: maximum allowed = {rule.MaxText}, but found {count}.");
        }
    }

    /// <summary>An item not assigned to a slice: an extension is checked against its own definition, found by its url.</summary>
    private void ValidateItem(PocoNode item, string location, ElementRule definition)
    {
        if (item.Poco is Extension extension && definition.Name is "extension" or "modifierExtension" && !definition.HasChildren)
        {
            var profile = extension.Url is { } url ? engine.Profile(url) : null;
            if (profile is { Type: "Extension" })
            {
                ValidateElement(item, location, profile.Root);
                return;
            }

            if (definition.Name == "modifierExtension" || ValidationEngine.IsDefinedHere(extension.Url))
            {
                // An extension in a namespace whose definitions the gateway holds (core R4, UK Core, Wirral) must be
                // one of them: an unknown one there is a misspelt or invented URL, not someone else's extension.
                issues.Error(IssueType.Extension, location, definition.Name == "modifierExtension"
                    ? $"The modifier extension '{extension.Url}' is not known, so the resource cannot be processed safely."
                    : $"The extension '{extension.Url}' is not defined: no such extension exists in that namespace.");
            }
            else
            {
                issues.Information(IssueType.Extension, location, $"The extension '{extension.Url}' is not known to the gateway; its content was not checked.");
            }
        }

        ValidateElement(item, location, definition);
    }

    private int FindSlice(PocoNode item, ChildGroup group, SlicingRule slicing)
    {
        // What the item holds at each discriminator path, worked out once and compared with every slice.
        var values = new List<Base>[slicing.Discriminators.Count];
        for (var i = 0; i < group.Slices.Count; i++)
        {
            if (SliceMatches(item, group.Slices[i], slicing, values))
            {
                return i;
            }
        }

        return -1;
    }

    private bool SliceMatches(PocoNode item, ElementRule slice, SlicingRule slicing, List<Base>[] values)
    {
        if (slicing.Discriminators.Count == 0)
        {
            return ConformsTo(item, slice);
        }

        for (var d = 0; d < slicing.Discriminators.Count; d++)
        {
            var discriminator = slicing.Discriminators[d];
            var expected = engine.Expectation(slice, discriminator);
            var found = values[d] ??= DiscriminatorValues(item, discriminator.Path);
            var matched = discriminator.Type switch
            {
                ElementDefinition.DiscriminatorType.Value or ElementDefinition.DiscriminatorType.Pattern => expected switch
                {
                    { Value: { } value } => found.Exists(v => ValueMatcher.Matches(v, value, expected.Exact)),
                    { ValueSet: { } valueSet } => found.Exists(v => Codes(v).Any(c => engine.Terminology.ValueSet(valueSet).Check(c.System, c.Code) == CodeCheck.Valid)),
                    _ => ConformsTo(item, slice),
                },
                ElementDefinition.DiscriminatorType.Exists => (found.Count > 0) == expected.MustExist,
                ElementDefinition.DiscriminatorType.Type or ElementDefinition.DiscriminatorType.Profile =>
                    expected.Types.Count == 0 ? ConformsTo(item, slice) : found.Exists(v => expected.Types.Any(t => t == v.TypeName || ModelInfo.IsInstanceTypeFor(t, v.TypeName))),
                _ => ConformsTo(item, slice),
            };
            if (!matched)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The fallback when a slice says nothing a discriminator can use: the item belongs if it meets the slice without errors.</summary>
    private bool ConformsTo(PocoNode item, ElementRule slice)
    {
        var trial = new IssueCollector();
        new InstanceValidator(engine, trial, bundle).ValidateElement(item, "$this", slice);
        return trial.Errors == 0;
    }

    /// <summary>
    /// The values at a discriminator path. Plain paths (<c>system</c>, <c>coding.code</c>) are read from the objects
    /// directly; anything else (<c>extension('...')</c>, <c>resolve()</c>) goes through FHIRPath.
    /// </summary>
    private List<Base> DiscriminatorValues(PocoNode item, string path)
    {
        if (path == "$this")
        {
            return [item.Poco];
        }

        if (PlainPath().IsMatch(path))
        {
            List<Base> current = [item.Poco];
            foreach (var name in path.Split('.'))
            {
                var next = new List<Base>();
                foreach (var value in current)
                {
                    if (value.TryGetValue(name, out var child))
                    {
                        if (child is Base single)
                        {
                            next.Add(single);
                        }
                        else if (child is System.Collections.IEnumerable many)
                        {
                            next.AddRange(many.OfType<Base>());
                        }
                    }
                }

                current = next;
            }

            return current;
        }

        var expression = FhirPathExpressions.TryCompile(path, out _);
        if (expression is null)
        {
            return [];
        }

        try
        {
            return [.. expression(item, _context).Select(n => n.Poco)];
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return [];
        }
    }

    private void CheckConstraints(PocoNode node, string location, IReadOnlyList<ConstraintRule> constraints, IReadOnlyList<ConstraintRule>? except = null)
    {
        string? lastExpression = null;
        var lastResult = true;
        foreach (var constraint in constraints)
        {
            if (except is not null && Contains(except, constraint.Key))
            {
                continue;
            }

            bool holds;
            try
            {
                if (constraint.Native?.Invoke(node.Poco) is { } decided)
                {
                    holds = decided;
                }
                else if (constraint.Expression == lastExpression)
                {
                    // txt-1 and txt-2 are the same htmlChecks() under two keys.
                    holds = lastResult;
                }
                else if (constraint.Compiled is { } compiled)
                {
                    holds = compiled.Predicate(node, _context);
                    (lastExpression, lastResult) = (constraint.Expression, holds);
                }
                else
                {
                    continue;
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // An invariant the engine cannot evaluate on this data (e.g. a function given a collection) says
                // nothing about the data; report it as not checked rather than as a failure.
                issues.Information(IssueType.Informational, location, $"Invariant {constraint.Key} could not be evaluated here, so it was not checked ({ex.GetType().Name}).");
                continue;
            }

            if (!holds)
            {
                issues.Add(constraint.Severity, IssueType.Invariant, location, $"Invariant {constraint.Key} failed: {constraint.Human}");
            }
        }
    }

    private static bool Contains(IReadOnlyList<ConstraintRule> constraints, string key)
    {
        foreach (var constraint in constraints)
        {
            if (constraint.Key == key)
            {
                return true;
            }
        }

        return false;
    }

    private void CheckPrimitive(PrimitiveType primitive, string instanceType, string location, ElementRule rule, bool hasChildren)
    {
        switch (primitive.JsonValue)
        {
            case null when !hasChildren:
                issues.Error(IssueType.Invalid, location, $"{rule.Id}: ele-1: an element must have a value or children.");
                break;
            case string { Length: 0 }:
                issues.Error(IssueType.Value, location, $"{rule.Id}: a {instanceType} must not be empty.");
                break;
            case string text:
                // R4 allows any URI without whitespace (uri, url, canonical: \S*); the SDK's own check is stricter
                // than R4 there (it refuses canonical|version). For the other types it applies R4's rules.
                if (instanceType is "uri" or "url" or "canonical" ? text.Any(char.IsWhiteSpace) : instanceType is not ("string" or "markdown" or "xhtml") && !primitive.HasValidValue())
                {
                    issues.Error(IssueType.Value, location, $"{rule.Id}: '{Shorten(text)}' is not a valid {instanceType}.");
                }

                if (rule.MaxLength is { } maxLength && text.Length > maxLength)
                {
                    issues.Error(IssueType.Value, location, $"{rule.Id}: at most {maxLength} characters are allowed, but found {text.Length}.");
                }

                break;
            default:
                break;
        }
    }

    private void CheckBinding(Base value, BindingRule binding, string location, ElementRule rule)
    {
        var codes = Codes(value).ToList();
        if (codes.Count == 0)
        {
            if (binding.Strength == BindingStrength.Required && value is CodeableConcept)
            {
                issues.Error(IssueType.CodeInvalid, location, $"{rule.Id}: no code is given, but one from {binding.ValueSet} is required.");
            }

            return;
        }

        var valueSet = engine.Terminology.ValueSet(binding.ValueSet);
        if (!valueSet.Available)
        {
            issues.Information(IssueType.Informational, location, $"{rule.Id}: the value set {binding.ValueSet} is not available to the gateway, so the code was not checked.");
            return;
        }

        var results = codes.Select(c => (c.System, c.Code, Result: valueSet.Check(c.System, c.Code))).ToList();
        if (results.Any(r => r.Result == CodeCheck.Valid))
        {
            return;
        }

        if (results.FirstOrDefault(r => r.Result == CodeCheck.NotChecked) is { Code: not null } notChecked)
        {
            issues.Information(IssueType.Informational, location, $"{rule.Id}: code {Show(notChecked.System, notChecked.Code)} was not checked against {binding.ValueSet}: the code system is not available to the gateway.");
            return;
        }

        var shown = string.Join(", ", results.Select(r => Show(r.System, r.Code)));
        if (binding.Strength == BindingStrength.Required)
        {
            issues.Error(IssueType.CodeInvalid, location, $"{rule.Id}: {shown} is not in the value set {binding.ValueSet}, which is required.");
        }
        else
        {
            issues.Warning(IssueType.CodeInvalid, location, $"{rule.Id}: {shown} is not in the value set {binding.ValueSet}; the binding is extensible, so use a code from it where one fits.");
        }
    }

    /// <summary>A code from a code system held here in full must be one of its codes, with one of its displays.</summary>
    private void CheckCoding(Coding coding, string system, string code, string location, ElementRule rule)
    {
        var (result, displays) = engine.Terminology.Lookup(system, code);
        if (result == CodeCheck.Invalid)
        {
            issues.Error(IssueType.CodeInvalid, location, $"{rule.Id}: '{code}' is not a code of {system}.");
        }
        else if (result == CodeCheck.Valid && coding.Display is { } display && displays.Count > 0
            && !displays.Any(d => string.Equals(d.Trim(), display.Trim(), StringComparison.OrdinalIgnoreCase)))
        {
            issues.Warning(IssueType.Value, location, $"{rule.Id}: the display '{Shorten(display)}' is not the code system's display for {system}#{code}, '{Shorten(displays[0])}'.");
        }
    }

    /// <summary>An extension may only be used where its definition's context allows (an element path, a data type, or another extension).</summary>
    private void CheckExtensionContext(PocoNode host, ElementRule hostRule, PocoNode item, string location)
    {
        if (item.Poco is not Extension { Url: { } url } || engine.ExtensionContexts(url) is not { Count: > 0 } contexts)
        {
            return;
        }

        // Most contexts name the element's own definition path or its type: try those before working out the rest.
        // The definition path of Questionnaire.item.item is Questionnaire.item again (a content reference).
        var definitionPath = hostRule.ContentReference ?? hostRule.Path;
        var hostType = TypeName(host);
        foreach (var (type, expression) in contexts)
        {
            if (type == StructureDefinition.ExtensionContextType.Element && (expression == definitionPath || expression == hostType || expression == "Element"))
            {
                return;
            }
        }

        var hostNames = HostNames(host);
        hostNames.Add(definitionPath);
        foreach (var (type, expression) in contexts)
        {
            var allowed = type switch
            {
                StructureDefinition.ExtensionContextType.Element => hostNames.Contains(expression.Replace("[x]", string.Empty, StringComparison.Ordinal)),
                StructureDefinition.ExtensionContextType.Extension => host.Poco is Extension { Url: { } hostUrl } && hostUrl == expression,
                _ => true,
            };
            if (allowed)
            {
                return;
            }
        }

        issues.Error(IssueType.Structure, location, $"The extension '{url}' is not allowed on {hostNames[0]}; its definition allows it on {string.Join(", ", contexts.Select(c => c.Expression))}.");
    }

    /// <summary>
    /// The names an extension context can give an element: its path from its resource (<c>Patient.contact</c>), its
    /// path within its data type (<c>ContactPoint.system</c>), its type (<c>Coding</c>) and the base types.
    /// </summary>
    private static List<string> HostNames(PocoNode host)
    {
        var below = new List<string>();
        string? resourcePath = null;
        string? typePath = null;
        for (var current = host; current is not null; current = current.Parent)
        {
            if (current.Poco is Resource resource)
            {
                resourcePath = Path(resource.TypeName, below);
                break;
            }

            if (typePath is null && current != host && current.Poco is DataType and not PrimitiveType && TypeName(current) is not ("BackboneElement" or "Element"))
            {
                typePath = Path(TypeName(current), below);
            }

            below.Add(current.Name);
        }

        List<string> names = [resourcePath ?? TypeName(host), TypeName(host), "Element"];
        if (typePath is not null)
        {
            names.Add(typePath);
        }

        if (host.Poco is Resource)
        {
            names.AddRange(["Resource", "DomainResource"]);
        }

        return names;

        static string Path(string start, List<string> below) =>
            below.Count == 0 ? start : start + "." + string.Join('.', Enumerable.Reverse(below));
    }

    private static string Show(string? system, string code) => system is null ? $"'{code}'" : $"{system}#{code}";

    private static IEnumerable<(string? System, string Code)> Codes(Base value)
    {
        switch (value)
        {
            case Coding { Code: { } code } coding:
                yield return (coding.System, code);
                break;
            case CodeableConcept concept:
                foreach (var coding in concept.Coding)
                {
                    if (coding.Code is { } conceptCode)
                    {
                        yield return (coding.System, conceptCode);
                    }
                }

                break;
            case Quantity { Code: { } code } quantity:
                yield return (quantity.System, code);
                break;
            case PrimitiveType { JsonValue: string text } when value is Code or FhirString or FhirUri || value.GetType().IsGenericType:
                yield return (null, text);
                break;
            default:
                break;
        }
    }

    private void CheckReference(PocoNode node, ResourceReference reference, TypeRule type, string location, ElementRule rule)
    {
        var allowed = engine.TargetTypes(type);
        string? target = null;
        if (reference.Reference is { } literal)
        {
            if (literal.StartsWith('#'))
            {
                target = literal == "#" ? ContainerOf(node)?.TypeName : ContainerOf(node) is DomainResource container
                    ? container.Contained.FirstOrDefault(c => c.Id == literal[1..])?.TypeName
                    : null;
                if (target is null)
                {
                    issues.Error(IssueType.NotFound, location + ".reference", $"{rule.Id}: the contained resource '{literal}' is not in this resource.");
                    return;
                }
            }
            else if ((BundleOf(node) ?? bundle) is { } enclosing && enclosing.Entry.FirstOrDefault(e => e.FullUrl == literal || (e.FullUrl?.EndsWith("/" + literal, StringComparison.Ordinal) ?? false)) is { Resource: { } entry })
            {
                target = entry.TypeName;
            }
            else if (ReferencePattern().Match(literal) is { Success: true } match)
            {
                target = match.Groups["type"].Value;
            }
            else if (!literal.StartsWith("urn:uuid:", StringComparison.Ordinal) && !literal.StartsWith("urn:oid:", StringComparison.Ordinal))
            {
                issues.Warning(IssueType.Value, location + ".reference", $"{rule.Id}: '{Shorten(literal)}' is not a FHIR reference (Type/id, an absolute URL, #id or a urn:uuid).");
            }
        }

        target ??= reference.Type is { } typeUri ? Definitions.CanonicalUrl.Tail(typeUri) : null;
        if (target is not null && allowed.Count > 0 && !allowed.Contains(target))
        {
            issues.Error(IssueType.Structure, location, $"{rule.Id}: a reference to a {target} is not allowed here; expected {string.Join(" or ", allowed.Order(StringComparer.Ordinal))}.");
        }
    }

    private static Resource? ContainerOf(PocoNode node)
    {
        for (var current = node.Parent; current is not null; current = current.Parent)
        {
            if (current.Poco is Resource resource)
            {
                // A reference inside a contained resource points among its container's contained resources.
                return current.Name == "contained" && current.Parent?.Poco is Resource container ? container : resource;
            }
        }

        return null;
    }

    private static Bundle? BundleOf(PocoNode node)
    {
        for (var current = node.Parent; current is not null; current = current.Parent)
        {
            if (current.Poco is Bundle bundle)
            {
                return bundle;
            }
        }

        return null;
    }

    private CompiledProfile? TypeProfile(TypeRule type, string instanceType, string location)
    {
        foreach (var url in type.Profiles)
        {
            if (engine.Profile(url) is { } profile)
            {
                return profile;
            }
        }

        if (type.Profiles.Count > 0)
        {
            issues.Information(IssueType.NotSupported, location, $"The profile '{type.Profiles[0]}' is not known to the gateway; checked against the base {instanceType} only.");
        }

        return engine.BaseProfile(instanceType);
    }

    private static bool IsBackbone(ElementRule rule) => rule.Types.Count == 1 && rule.Types[0].Code is "BackboneElement" or "Element";

    private static bool TypeMatches(TypeRule type, string instanceType, Base value) =>
        type.IsSystemType ? value is PrimitiveType
        : type.Code == instanceType || (type.Code is "Resource" or "DomainResource" && value is Resource) || ModelInfo.IsInstanceTypeFor(type.Code, instanceType);

    /// <summary>The FHIR type name of a node: <c>code</c>, <c>Quantity</c>, <c>Patient</c>...</summary>
    public static string TypeName(PocoNode node) =>
        TypeNames.GetOrAdd(node.Poco.GetType(), static (_, n) => ((ITypedElement)n).InstanceType ?? n.Poco.TypeName, node);

    // The SDK works the instance type out from its model metadata on every call; it depends only on the class.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, string> TypeNames = new();

    private static bool HasChildren(PocoNode node)
    {
        using var children = node.Poco.EnumerateElements().GetEnumerator();
        return children.MoveNext();
    }

    // FHIRPath reads a primitive's value only through the SDK's PrimitiveNode.
    private static PocoNode Node(Base value, PocoNode parent, int? index, string name) =>
        value is PrimitiveType primitive ? new PrimitiveNode(primitive, parent, index, name) : new PocoNode(value, parent, index, name);

    /// <summary>
    /// A node's children by name, as <see cref="PocoNode"/>s linked to their parent (so FHIRPath finds %resource).
    /// Built from the POCO's own element list: several times cheaper than <see cref="PocoNode.Children"/>.
    /// </summary>
    private static IEnumerable<(string Name, List<PocoNode> Items)> ChildrenOf(PocoNode node)
    {
        foreach (var (name, value) in node.Poco.EnumerateElements())
        {
            if (value is Base single)
            {
                yield return (name, [Node(single, node, null, name)]);
            }
            else if (value is System.Collections.IList list)
            {
                var items = new List<PocoNode>(list.Count);
                for (var i = 0; i < list.Count; i++)
                {
                    if (list[i] is Base item)
                    {
                        items.Add(Node(item, node, i, name));
                    }
                }

                yield return (name, items);
            }
        }
    }

    private static string Location(string parent, PocoNode item, ElementRule definition)
    {
        var location = item.Index is { } index ? $"{parent}.{item.Name}[{index}]" : $"{parent}.{item.Name}";
        return definition.IsChoice ? $"{location}.ofType({TypeName(item)})" : location;
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : string.Concat(text.AsSpan(0, 57), "...");

    [GeneratedRegex(@"^[A-Za-z]+(\.[A-Za-z]+)*$")]
    private static partial Regex PlainPath();

    [GeneratedRegex(@"^((https?://[^\s]+/)?(?<type>[A-Z][A-Za-z]+)/[A-Za-z0-9\-\.]{1,64}(/_history/[A-Za-z0-9\-\.]{1,64})?)$")]
    private static partial Regex ReferencePattern();
}
