using System.Collections.Concurrent;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Validation.Definitions;

namespace WirralCareRecord.Gateway.Validation.Terminology;

/// <summary>Whether a code is in a value set, as far as can be told without a terminology server.</summary>
internal enum CodeCheck
{
    Valid,
    Invalid,

    /// <summary>The value set draws on a code system not held here (SNOMED CT, dm+d, LOINC, languages...).</summary>
    NotChecked,
}

/// <summary>
/// Value set membership from the definitions held locally: each value set is expanded once, as far as the code
/// systems it draws on are available in full, and remembers which systems it could not expand. Codes from those
/// systems are <see cref="CodeCheck.NotChecked"/>, never wrong. Expansion follows FHIR R4 compose rules (concepts,
/// <c>is-a</c>/<c>descendent-of</c>/<c>is-not-a</c>/<c>=</c>/<c>in</c> filters on the concept hierarchy, included value sets).
/// </summary>
internal sealed class LocalTerminology(DefinitionSet definitions)
{
    private const int MaxDepth = 10;
    private readonly ConcurrentDictionary<string, Lazy<ValueSetIndex>> _valueSets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<ConceptTree?>> _codeSystems = new(StringComparer.Ordinal);

    /// <summary>
    /// Whether a code is defined by its code system, when that system is held here in full; its display (and
    /// designations) come back to check a coding's display against.
    /// </summary>
    public (CodeCheck Result, IReadOnlyList<string> Displays) Lookup(string system, string code)
    {
        if (Tree(system) is not { Complete: true } tree)
        {
            return (CodeCheck.NotChecked, []);
        }

        return tree.Displays.TryGetValue(code, out var displays) ? (CodeCheck.Valid, displays) : (CodeCheck.Invalid, []);
    }

    public ValueSetIndex ValueSet(string canonical) =>
        _valueSets.GetOrAdd(CanonicalUrl.Strip(canonical), url => new Lazy<ValueSetIndex>(() => Expand(url, 0))).Value;

    private ValueSetIndex Expand(string url, int depth)
    {
        if (depth > MaxDepth || definitions.FindValueSet(url) is not { } valueSet)
        {
            return ValueSetIndex.Unavailable(url);
        }

        var index = new ValueSetIndex(url);
        if (valueSet.Expansion?.Contains.Count > 0 && (valueSet.Expansion.Total is null || valueSet.Expansion.Total <= valueSet.Expansion.Contains.Count))
        {
            AddExpansion(index, valueSet.Expansion.Contains);
            return index;
        }

        if (valueSet.Compose is not { } compose)
        {
            index.MarkIncomplete();
            return index;
        }

        foreach (var include in compose.Include)
        {
            Include(index, include, depth, exclude: false);
        }

        foreach (var exclude in compose.Exclude)
        {
            Include(index, exclude, depth, exclude: true);
        }

        return index;
    }

    private void Include(ValueSetIndex index, ValueSet.ConceptSetComponent part, int depth, bool exclude)
    {
        if (part.System is null)
        {
            foreach (var nested in part.ValueSet)
            {
                if (nested is null)
                {
                    continue;
                }

                var other = depth < MaxDepth ? Expand(CanonicalUrl.Strip(nested), depth + 1) : ValueSetIndex.Unavailable(nested);
                if (exclude)
                {
                    index.Remove(other);
                }
                else
                {
                    index.Add(other);
                }
            }

            return;
        }

        var system = part.System;
        IEnumerable<string>? codes;
        var complete = true;
        if (part.Concept.Count > 0)
        {
            codes = part.Concept.Select(c => c.Code).OfType<string>();
        }
        else
        {
            var tree = Tree(system);
            complete = tree?.Complete == true;
            codes = tree is null ? null : part.Filter.Count == 0 ? tree.All : Filter(tree, part.Filter);
        }

        if (exclude)
        {
            // An exclusion that cannot be enumerated is ignored: codes it would remove are then wrongly accepted,
            // which is the safe side for a gateway that must not drop data.
            foreach (var code in codes ?? [])
            {
                index.Remove(system, code);
            }

            return;
        }

        if (codes is null || !complete)
        {
            index.MarkUnchecked(system);
        }

        foreach (var code in codes ?? [])
        {
            index.Add(system, code);
        }
    }

    private static HashSet<string>? Filter(ConceptTree tree, List<ValueSet.FilterComponent> filters)
    {
        HashSet<string>? result = null;
        foreach (var filter in filters)
        {
            IEnumerable<string>? matched = (filter.Property, filter.Op, filter.Value) switch
            {
                ("concept", FilterOperator.IsA, { } value) => tree.DescendantsOf(value, includeSelf: true),
                ("concept", FilterOperator.DescendentOf, { } value) => tree.DescendantsOf(value, includeSelf: false),
                ("concept", FilterOperator.IsNotA, { } value) => tree.All.Except(tree.DescendantsOf(value, includeSelf: true)),
                ("concept" or "code", FilterOperator.Equal, { } value) => tree.All.Contains(value) ? [value] : [],
                ("concept" or "code", FilterOperator.In, { } value) => value.Split(',', StringSplitOptions.TrimEntries).Where(tree.All.Contains),
                _ => null,
            };
            if (matched is null)
            {
                return null;
            }

            result = result is null ? [.. matched] : [.. result.Intersect(matched)];
        }

        return result;
    }

    private ConceptTree? Tree(string system) =>
        _codeSystems.GetOrAdd(system, url => new Lazy<ConceptTree?>(() => definitions.FindCodeSystem(url) is { } codeSystem ? ConceptTree.From(codeSystem) : null)).Value;

    private static void AddExpansion(ValueSetIndex index, IEnumerable<ValueSet.ContainsComponent> contains)
    {
        foreach (var entry in contains)
        {
            if (entry.System is not null && entry.Code is not null)
            {
                index.Add(entry.System, entry.Code);
            }

            AddExpansion(index, entry.Contains);
        }
    }

    /// <summary>A code system's concepts and hierarchy.</summary>
    private sealed class ConceptTree
    {
        private readonly Dictionary<string, List<string>> _children = new(StringComparer.Ordinal);

        private ConceptTree(StringComparer comparer)
        {
            All = new HashSet<string>(comparer);
            Displays = new Dictionary<string, IReadOnlyList<string>>(comparer);
        }

        public HashSet<string> All { get; }

        /// <summary>Each code's display and designations.</summary>
        public Dictionary<string, IReadOnlyList<string>> Displays { get; }

        /// <summary>False for fragments, examples and code systems published without their concepts.</summary>
        public bool Complete { get; private init; }

        public static ConceptTree From(CodeSystem codeSystem)
        {
            var tree = new ConceptTree(codeSystem.CaseSensitive == false ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal)
            {
                Complete = codeSystem.Content == CodeSystemContentMode.Complete,
            };
            tree.Add(codeSystem.Concept, parent: null);
            return tree;
        }

        public IEnumerable<string> DescendantsOf(string code, bool includeSelf)
        {
            if (!All.Contains(code))
            {
                yield break;
            }

            if (includeSelf)
            {
                yield return code;
            }

            var pending = new Stack<string>(_children.GetValueOrDefault(code) ?? []);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (pending.TryPop(out var next))
            {
                if (seen.Add(next))
                {
                    yield return next;
                    foreach (var child in _children.GetValueOrDefault(next) ?? [])
                    {
                        pending.Push(child);
                    }
                }
            }
        }

        private void Add(IEnumerable<CodeSystem.ConceptDefinitionComponent> concepts, string? parent)
        {
            foreach (var concept in concepts)
            {
                if (concept.Code is null)
                {
                    continue;
                }

                All.Add(concept.Code);
                Displays.TryAdd(concept.Code, [.. new[] { concept.Display }.Concat(concept.Designation.Select(d => d.Value)).OfType<string>()]);
                if (parent is not null)
                {
                    (_children.TryGetValue(parent, out var list) ? list : _children[parent] = []).Add(concept.Code);
                }

                Add(concept.Concept, concept.Code);
            }
        }
    }
}

/// <summary>A value set's codes as far as they could be enumerated, and the systems that could not be.</summary>
internal sealed class ValueSetIndex(string url)
{
    private readonly HashSet<(string System, string Code)> _codes = [];
    private readonly HashSet<string> _anySystem = new(StringComparer.Ordinal);
    private readonly HashSet<string> _uncheckedSystems = new(StringComparer.Ordinal);
    private bool _incomplete;

    public string Url { get; } = url;

    public bool Available { get; private init; } = true;

    public static ValueSetIndex Unavailable(string url) => new(url) { Available = false, _incomplete = true };

    /// <summary>True when every code of the value set is known here, so a code not found is really not in it.</summary>
    public bool FullyChecked => Available && !_incomplete && _uncheckedSystems.Count == 0;

    public int Count => _codes.Count;

    public CodeCheck Check(string? system, string code)
    {
        if (system is null)
        {
            return _anySystem.Contains(code) ? CodeCheck.Valid : FullyChecked ? CodeCheck.Invalid : CodeCheck.NotChecked;
        }

        if (_codes.Contains((system, code)))
        {
            return CodeCheck.Valid;
        }

        return _incomplete || _uncheckedSystems.Contains(system) ? CodeCheck.NotChecked : CodeCheck.Invalid;
    }

    internal void Add(string system, string code)
    {
        _codes.Add((system, code));
        _anySystem.Add(code);
    }

    internal void Remove(string system, string code)
    {
        _codes.Remove((system, code));
        if (!_codes.Any(c => c.Code == code))
        {
            _anySystem.Remove(code);
        }
    }

    internal void Add(ValueSetIndex other)
    {
        foreach (var (system, code) in other._codes)
        {
            Add(system, code);
        }

        _uncheckedSystems.UnionWith(other._uncheckedSystems);
        _incomplete |= other._incomplete;
    }

    internal void Remove(ValueSetIndex other)
    {
        foreach (var (system, code) in other._codes)
        {
            Remove(system, code);
        }
    }

    internal void MarkUnchecked(string system) => _uncheckedSystems.Add(system);

    internal void MarkIncomplete() => _incomplete = true;
}
