using Firely.Fhir.Validation;
using Hl7.Fhir.Model;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>
/// Firely checks a reference's target type only when the reference resolves, and a source's references point at
/// resources the gateway does not hold. A literal reference names its target's type (<c>Practitioner/dr-patel</c>,
/// <c>https://gp.example/fhir/Patient/p1</c>), so this answers each with an empty stand-in of that type: the
/// validator then reports a target type the profile does not allow. What it says about the stand-in's content (it
/// is empty, so it may lack required elements) is dropped by <see cref="FirelyValidation"/>, which knows the
/// stand-ins of each validation from <see cref="StandIns"/>. References without a type (<c>urn:uuid:</c>,
/// identifiers only) and references to the type being validated are not answered, so not checked.
/// </summary>
/// <remarks>One per pooled validator: used by one validation at a time.</remarks>
internal sealed class LiteralReferenceResolver : IExternalReferenceResolver
{
    /// <summary>The id every stand-in carries; not a real resource's id.</summary>
    public const string Marker = "wcr-unresolved-reference-stand-in";

    private readonly List<(string Reference, string Type)> _standIns = [];
    private string? _rootType;

    /// <summary>The stand-ins handed out since <see cref="Begin"/>: each reference and the type it names.</summary>
    public IReadOnlyList<(string Reference, string Type)> StandIns => _standIns;

    /// <summary>Starts a validation of a resource of <paramref name="rootType"/>.</summary>
    public void Begin(string rootType)
    {
        _rootType = rootType;
        _standIns.Clear();
    }

    public Task<object?> ResolveAsync(string reference)
    {
        var standIn = StandIn(reference);
        // A stand-in of the validated resource's own type could not be told apart from it in the outcome.
        if (standIn is null || standIn.TypeName == _rootType)
        {
            return System.Threading.Tasks.Task.FromResult<object?>(null);
        }

        _standIns.Add((reference, standIn.TypeName));
        return System.Threading.Tasks.Task.FromResult<object?>(standIn);
    }

    /// <summary>An empty resource of the type a literal reference names, or null when it names none.</summary>
    public static Resource? StandIn(string reference)
    {
        if (string.IsNullOrEmpty(reference) || reference.StartsWith('#') || reference.StartsWith("urn:", StringComparison.Ordinal))
        {
            return null;
        }

        // Type/id[/_history/version], or an absolute URL ending so (http://hl7.org/fhir/R4/references.html#literal).
        var absolute = reference.StartsWith("http://", StringComparison.Ordinal) || reference.StartsWith("https://", StringComparison.Ordinal);
        var parts = reference.Split('?', '#')[0].Split('/');
        var versioned = parts.Length >= 4 && parts[^2] == "_history";
        var at = versioned ? parts.Length - 4 : parts.Length - 2;
        if (at < 0 || (!absolute && at != 0) || !ModelInfo.IsKnownResource(parts[at]) || ModelInfo.GetTypeForFhirType(parts[at]) is not { } type)
        {
            return null;
        }

        var resource = (Resource)Activator.CreateInstance(type)!;
        resource.Id = Marker;
        return resource;
    }
}
