using System.Collections;
using System.Globalization;
using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.Validation.Rules;

/// <summary>
/// FHIR's fixed and pattern value semantics (ElementDefinition.fixed[x], pattern[x]): a fixed value must be matched
/// exactly; a pattern only in what it states, each repeating item of the pattern by some item of the instance.
/// </summary>
internal static class ValueMatcher
{
    public static bool Matches(Base actual, Base expected, bool exact)
    {
        if (expected is PrimitiveType expectedPrimitive)
        {
            return actual is PrimitiveType actualPrimitive && SameValue(actualPrimitive.JsonValue, expectedPrimitive.JsonValue);
        }

        var actualElements = actual.EnumerateElements().ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        var expectedCount = 0;
        foreach (var (name, expectedValue) in expected.EnumerateElements())
        {
            if (name == "id")
            {
                continue;
            }

            expectedCount++;
            var actualValue = actualElements.GetValueOrDefault(name);
            if (expectedValue is IEnumerable expectedItems and not Base)
            {
                var wanted = expectedItems.OfType<Base>().ToList();
                var present = actualValue is IEnumerable items and not Base ? items.OfType<Base>().ToList() : [];
                var ok = exact
                    ? wanted.Count == present.Count && wanted.Zip(present).All(pair => Matches(pair.Second, pair.First, exact: true))
                    : wanted.All(w => present.Any(p => Matches(p, w, exact: false)));
                if (!ok)
                {
                    return false;
                }
            }
            else if (expectedValue is Base expectedChild && (actualValue is not Base actualChild || !Matches(actualChild, expectedChild, exact)))
            {
                return false;
            }
        }

        // Exactly means nothing more either (extensions and ids aside, which do not change the value).
        return !exact || actualElements.Keys.Count(k => k is not ("id" or "extension")) <= expectedCount;
    }

    /// <summary>A short description of a fixed or pattern value for messages.</summary>
    public static string Describe(DataType value) => value switch
    {
        PrimitiveType primitive => $"'{primitive}'",
        Coding coding => $"{coding.System}#{coding.Code}",
        CodeableConcept concept => string.Join(" or ", concept.Coding.Select(c => $"{c.System}#{c.Code}")) is { Length: > 0 } codes ? codes : $"'{concept.Text}'",
        Identifier identifier => $"{identifier.System}|{identifier.Value}",
        _ => $"the {value.TypeName} given in the profile",
    };

    private static bool SameValue(object? actual, object? expected) =>
        Equals(actual, expected) || string.Equals(Convert.ToString(actual, CultureInfo.InvariantCulture), Convert.ToString(expected, CultureInfo.InvariantCulture), StringComparison.Ordinal);
}
