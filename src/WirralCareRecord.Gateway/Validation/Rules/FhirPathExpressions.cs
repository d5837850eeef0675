using System.Collections.Concurrent;
using Hl7.Fhir.FhirPath;
using Hl7.FhirPath;
using Hl7.FhirPath.Expressions;

namespace WirralCareRecord.Gateway.Validation.Rules;

/// <summary>
/// FHIRPath expressions (invariants, slicing discriminators) compiled once per process. Compilation costs
/// milliseconds; evaluating a compiled expression costs microseconds.
/// </summary>
internal static class FhirPathExpressions
{
    // The FHIR functions (htmlChecks, extension, resolve, hasValue...) on top of the standard FHIRPath ones.
    private static readonly FhirPathCompiler Compiler = new(new SymbolTable().AddStandardFP().AddFhirExtensions());
    private static readonly ConcurrentDictionary<string, (CompiledExpression? Expression, string? Problem)> Cache = new(StringComparer.Ordinal);

    /// <summary>The compiled expression, or null with the reason when the engine cannot compile it.</summary>
    public static CompiledExpression? TryCompile(string expression, out string? problem)
    {
        var (compiled, reason) = Cache.GetOrAdd(expression, static text =>
        {
            // The engine reports unknown functions and syntax errors with several exception types.
            try
            {
                return (Compiler.Compile(text), null);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                return (null, ex.Message);
            }
        });
        problem = reason;
        return compiled;
    }
}
