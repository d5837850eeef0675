using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>
/// R4's <c>ref-1</c> invariant ("SHALL have a contained resource if a local reference is provided") is written so
/// that a Reference with no <c>reference</c> at all (identifier only, or display only) fails it. HL7 corrected it in
/// R5 and in the R4 technical corrections (<c>reference.exists() implies (...)</c>); Firely's compiler corrects it
/// on the Reference type only, but every resource snapshot carries its own copy on each Reference element. This
/// rewrites those copies to the corrected expression.
/// </summary>
internal static class Ref1Patch
{
    public const string Key = "ref-1";

    // As Firely.Fhir.Validation.Compilation's ReferenceCorrector writes it for R4.
    public const string Corrected = "reference.exists() implies (reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids')) or (reference='#' and %rootResource!=%resource))";

    /// <summary>Patches every <c>ref-1</c> in the definition's snapshot and differential; returns how many it changed.</summary>
    public static int Apply(Resource resource)
    {
        if (resource is not StructureDefinition definition)
        {
            return 0;
        }

        var changed = 0;
        foreach (var element in (definition.Snapshot?.Element ?? []).Concat(definition.Differential?.Element ?? []))
        {
            foreach (var constraint in element.Constraint)
            {
                if (constraint.Key == Key && constraint.Expression is { } expression && !expression.StartsWith("reference.exists() implies", StringComparison.Ordinal))
                {
                    constraint.Expression = Corrected;
                    changed++;
                }
            }
        }

        return changed;
    }
}
