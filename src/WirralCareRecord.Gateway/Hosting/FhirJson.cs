using System.Buffers;
using System.Text.Json;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace WirralCareRecord.Gateway.Hosting;

/// <summary>The gateway's FHIR JSON settings, built once: Firely's converters are costly to set up.</summary>
public static class FhirJson
{
    public const string MediaType = "application/fhir+json";
    public const string ContentType = "application/fhir+json; charset=utf-8";

    /// <summary>What the gateway writes, and what it accepts from callers: strict, so bad input is reported, not guessed at.</summary>
    public static JsonSerializerOptions Strict { get; } = new JsonSerializerOptions().ForFhir(ModelInfo.ModelInspector);

    /// <summary>
    /// What sources send. Recoverable keeps every element the source sent even where it bends the rules
    /// (a clinician would rather see an oddly coded allergy than none), but still fails on what is not FHIR at all.
    /// The SDK's element validator is off: Recoverable mode discards every issue it raises, yet running it cost about
    /// six times the parse itself (measured by the benchmarks); conformance is judged by the Wirral profiles instead
    /// (flow tests, <c>$validate</c>, <c>Validation:ValidateSourceResponses</c>).
    /// </summary>
    public static JsonSerializerOptions Lenient { get; } = WithoutElementValidator(DeserializationMode.Recoverable);

    /// <summary>
    /// What the gateway reads back of its own writing (the audit log): every parse issue still fails, but the SDK's
    /// element validator does not run again on what <see cref="Strict"/> wrote; the log's hash chain, not the
    /// validator, is what shows a line was changed. An auditor's search over a day reads every line of it.
    /// </summary>
    public static JsonSerializerOptions OwnOutput { get; } = WithoutElementValidator(DeserializationMode.Strict);

    private static JsonSerializerOptions WithoutElementValidator(DeserializationMode mode) => new JsonSerializerOptions().ForFhir(
        ModelInfo.ModelInspector,
        (FhirJsonConverterOptions)new FhirJsonConverterOptions().UsingMode(mode) with { Validator = null });

    /// <summary>
    /// One resource a source sent, read as <see cref="Lenient"/> reads it; null where it is not a resource the SDK knows
    /// (not FHIR at all, or JSON whose resourceType the SDK reads as a placeholder that must not reach a clinician).
    /// </summary>
    public static Resource? ReadSourceResource(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        return ReadSourceResource(ref reader);
    }

    /// <inheritdoc cref="ReadSourceResource(ReadOnlySpan{byte})"/>
    public static Resource? ReadSourceResource(ReadOnlySequence<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        return ReadSourceResource(ref reader);
    }

    private static Resource? ReadSourceResource(ref Utf8JsonReader reader)
    {
        try
        {
            var resource = JsonSerializer.Deserialize<Resource>(ref reader, Lenient);
            return resource is not null && ModelInfo.IsKnownResource(resource.TypeName) ? resource : null;
        }
        catch (Exception ex) when (ex is JsonException or DeserializationFailedException or NotSupportedException)
        {
            return null;
        }
    }

    public static string Serialize(Resource resource) => JsonSerializer.Serialize(resource, Strict);

    public static byte[] SerializeToUtf8(Resource resource) => JsonSerializer.SerializeToUtf8Bytes(resource, Strict);
}
