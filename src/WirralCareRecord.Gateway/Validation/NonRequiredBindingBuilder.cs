using Firely.Fhir.Validation;
using Firely.Fhir.Validation.Compilation;
using Hl7.Fhir.Specification.Navigation;

// ISchemaBuilder, BindingValidator and CodedContentChecks are Firely's extension points for compilation, marked experimental.
#pragma warning disable ExperimentalApi

namespace WirralCareRecord.Gateway.Validation;

/// <summary>
/// Firely checks codes only against required bindings. UK Core binds most clinical codes (SNOMED CT, dm+d)
/// extensibly or as preferred, so without this they were skipped silently. This adds, for each extensible or preferred binding,
/// a second binding check that asks the terminology service (<see cref="NotCheckedTerminologyService"/>): a code
/// outside the value set is a warning (information for a preferred binding), and a SNOMED CT or dm+d code is reported "not checked".
/// </summary>
internal sealed class NonRequiredBindingBuilder : ISchemaBuilder
{
    public IEnumerable<IAssertion> Build(ElementDefinitionNavigator nav, ElementConversionMode? conversionMode = ElementConversionMode.Full)
    {
        ArgumentNullException.ThrowIfNull(nav);
        if (conversionMode == ElementConversionMode.ContentReference
            || nav.Current?.Binding is not { ValueSet: { } valueSet, Strength: Hl7.Fhir.Model.BindingStrength.Extensible or Hl7.Fhir.Model.BindingStrength.Preferred } binding)
        {
            yield break;
        }

        yield return new BindingValidator(
            new Firely.Fhir.Validation.Canonical(valueSet),
            binding.Strength == Hl7.Fhir.Model.BindingStrength.Extensible ? BindingValidator.BindingStrength.Extensible : BindingValidator.BindingStrength.Preferred,
            abstractAllowed: true,
            CodedContentChecks.Concepts | CodedContentChecks.NonRequiredBindings);
    }
}
