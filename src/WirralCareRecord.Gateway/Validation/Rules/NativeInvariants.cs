using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.Validation.Rules;

/// <summary>
/// The base R4 invariants that hold on almost every element, decided in C# where that is cheap: they run dozens of
/// times per resource, and through FHIRPath each costs microseconds. Each answers true or false when it can decide,
/// and null to leave the decision to FHIRPath. Matched on key and the exact R4 expression, so a profile redefining a
/// key keeps its own rule.
/// </summary>
internal static partial class NativeInvariants
{
    private static readonly Dictionary<(string Key, string Expression), Func<Base, bool?>> Known = new()
    {
        [("ext-1", "extension.exists() != value.exists()")] = value => value is Extension e ? e.Extension.Count > 0 != (e.Value is not null) : null,
        [("dom-2", "contained.contained.empty()")] = NoContained,
        [("dom-4", "contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()")] = NoContained,
        [("dom-5", "contained.meta.security.empty()")] = NoContained,
        [("dom-6", "text.`div`.exists()")] = value => value is DomainResource resource ? resource.Text?.Div is not null : null,
        [("ref-1", "reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))")] =
            value => value is ResourceReference { Reference: var reference } && (reference is null || !reference.StartsWith('#')) ? true : null,
        [("per-1", "start.hasValue().not() or end.hasValue().not() or (start <= end)")] =
            value => value is Period period && (period.StartElement?.Value is null || period.EndElement?.Value is null) ? true : null,
        [("qty-3", "code.empty() or system.exists()")] = value => value is Quantity quantity ? quantity.Code is null || quantity.System is not null : null,
        [("att-1", "data.empty() or contentType.exists()")] = value => value is Attachment attachment ? attachment.Data is null || attachment.ContentType is not null : null,
    };

    // dom-3 has two published wordings; both hold trivially without contained resources.
    private const string ContainedReferenced = "dom-3";

    public static Func<Base, bool?>? For(string key, string expression) =>
        Known.GetValueOrDefault((key, expression))
        ?? (key == ContainedReferenced && expression.StartsWith("contained.where(", StringComparison.Ordinal) ? NoContained : (Func<Base, bool?>?)null)
        ?? VacuousUnless(expression);

    /// <summary>
    /// Invariants of the shapes <c>x.empty() or ...</c> and <c>x.exists() implies ...</c> hold whenever the element
    /// <c>x</c> is absent, which it usually is (tim-*, cpt-2, obs-6, obs-7...). Only then is FHIRPath spared; the
    /// rest of the expression must not contain a lower-precedence operator (implies, xor) that would change that.
    /// </summary>
    private static Func<Base, bool?>? VacuousUnless(string expression)
    {
        var match = Guarded().Match(expression);
        if (!match.Success || match.Groups["rest"].Value.Contains(" implies ", StringComparison.Ordinal) || match.Groups["rest"].Value.Contains(" xor ", StringComparison.Ordinal))
        {
            return null;
        }

        var element = match.Groups["element"].Value;
        return value => Absent(value, element) ? true : null;
    }

    private static bool Absent(Base value, string element) =>
        !value.TryGetValue(element, out var child) || child is null || (child is System.Collections.ICollection { Count: 0 });

    [System.Text.RegularExpressions.GeneratedRegex(@"^(?<element>[a-z][A-Za-z]*)\.(empty\(\) or|exists\(\) implies) (?<rest>.+)$")]
    private static partial System.Text.RegularExpressions.Regex Guarded();

    private static bool? NoContained(Base value) => value is DomainResource { Contained.Count: 0 } ? true : null;
}
