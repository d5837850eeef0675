using System.Text.RegularExpressions;
using Microsoft.Extensions.Primitives;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.SourceProxy;

/// <summary>What a source route request asks for, once it has passed the contract.</summary>
internal enum RouteKind
{
    /// <summary><c>{Type}/{id}</c>: one item; whose it is is known only from the answer.</summary>
    Read,

    /// <summary><c>Patient/{id}</c>.</summary>
    PatientRead,

    /// <summary><c>{Type}?patient={id}</c> with allowed parameters.</summary>
    PatientSearch,

    /// <summary><c>Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|N</c>.</summary>
    NhsNumberSearch,

    /// <summary>A further page of a search, or a document (Binary), by a link the gateway itself wrote and signed.</summary>
    SignedLink,
}

/// <summary>
/// A request that passed the contract: what it is, the patient it names (source id or NHS number) and exactly what
/// will be forwarded, rebuilt from checked parts (never the caller's query string as sent).
/// </summary>
internal sealed record RouteRequest(RouteKind Kind, string ResourceType, string? PatientId, string? NhsNumber, string ForwardPath, string ForwardQuery);

/// <summary>
/// The source route's contract, narrowed to what a clinician's system needs (see the README's table): reads by id of
/// Patient and the record types the caller's agreement permits; searches by one patient with a few parameters; the
/// Patient search by NHS number; and links the gateway wrote. Everything else is refused before anything is forwarded.
/// </summary>
internal static partial class SourceRouteContract
{
    /// <summary>Search parameters allowed beside <c>patient</c>: they narrow one patient's items and never widen.</summary>
    public static IReadOnlyList<string> SearchParameters { get; } = ["date", "category", "code", "clinical-status", "verification-status", "status", "_count", "_sort", "_lastUpdated"];

    private const int MaxValueLength = 256;

    [GeneratedRegex("^[A-Za-z0-9\\-\\.]{1,64}$")]
    private static partial Regex FhirId();

    [GeneratedRegex("^-?[A-Za-z_][A-Za-z0-9_\\-]*(,-?[A-Za-z_][A-Za-z0-9_\\-]*)*$")]
    private static partial Regex SortList();

    /// <summary>The checked request, or an <see cref="InvalidRequestException"/> naming what is refused.</summary>
    /// <param name="rest">The path after <c>/sources/{ods}/fhir</c>, as received (still percent-encoded where it was).</param>
    public static RouteRequest Parse(string odsCode, string rest, IQueryCollection query, string rawQuery, Func<string, bool> readable, PageLinkSigner signer)
    {
        if (query.ContainsKey(PageLinkSigner.SignatureParameter))
        {
            return signer.Verify(odsCode, rest, rawQuery)
                ?? throw new InvalidRequestException("This link was not written by the gateway for this source, or has been changed; follow links exactly as the gateway gave them.", Hl7.Fhir.Model.OperationOutcome.IssueType.Security);
        }

        var segments = rest.Trim('/').Split('/');
        if (rest.Contains('%', StringComparison.Ordinal) || rest.Contains("//", StringComparison.Ordinal) || segments.Any(s => s is "." or ".."))
        {
            throw new InvalidRequestException("Encoded or relative path segments are not accepted on source routes.");
        }

        if (segments.Length == 0 || segments[0].Length == 0)
        {
            throw new InvalidRequestException("Name a resource type: the source route serves reads by id and searches for one patient's items.");
        }

        var type = segments[0];
        if (type.StartsWith('$') || segments.Skip(1).Any(s => s.StartsWith('$')))
        {
            throw new InvalidRequestException($"Operations ({segments.First(s => s.StartsWith('$'))}) are not available through source routes.");
        }

        if (!SourceAnswers.FhirModelTables.IsKnownResource(type))
        {
            throw new InvalidRequestException($"'{Bounded(type)}' is not a FHIR resource type.");
        }

        if (!readable(type))
        {
            throw new ForbiddenTypeException(type);
        }

        if (segments.Length > 2)
        {
            throw new InvalidRequestException($"Only {type}/{{id}} reads are available: history, versions and compartment paths ({Bounded(rest)}) are not.");
        }

        if (type == "Binary")
        {
            throw new InvalidRequestException("Documents (Binary) open only through the links in the DocumentReferences the gateway returned.");
        }

        if (segments.Length == 2)
        {
            var id = segments[1];
            if (!FhirId().IsMatch(id))
            {
                throw new InvalidRequestException("The id is not a FHIR id (letters, digits, '-' and '.', at most 64).");
            }

            if (query.Count > 0)
            {
                throw new InvalidRequestException($"Reads by id take no parameters; '{Bounded(query.Keys.First())}' is not accepted.");
            }

            return new RouteRequest(type == "Patient" ? RouteKind.PatientRead : RouteKind.Read, type, type == "Patient" ? id : null, null, $"/{type}/{id}", "");
        }

        return type == "Patient" ? PatientSearch(query) : ItemSearch(type, query);
    }

    private static RouteRequest PatientSearch(IQueryCollection query)
    {
        if (query.Count != 1 || !query.TryGetValue("identifier", out var identifier))
        {
            var other = query.Keys.FirstOrDefault(k => k != "identifier");
            throw new InvalidRequestException(other is null
                ? $"Patient searches take only identifier={NhsNumber.System}|{{NHS number}}."
                : $"'{Bounded(other)}' is not accepted on Patient searches: they take only identifier={NhsNumber.System}|{{NHS number}}.");
        }

        var value = Single("identifier", identifier);
        var bar = value.IndexOf('|', StringComparison.Ordinal);
        if (bar < 0 || value[..bar] != NhsNumber.System)
        {
            throw new InvalidRequestException($"identifier must be {NhsNumber.System}|{{NHS number}}.", Hl7.Fhir.Model.OperationOutcome.IssueType.CodeInvalid);
        }

        var check = NhsNumber.Check(value[(bar + 1)..]);
        if (!check.IsValid)
        {
            throw new InvalidRequestException(check.Problem!);
        }

        return new RouteRequest(RouteKind.NhsNumberSearch, "Patient", null, check.Value, "/Patient", "identifier=" + Uri.EscapeDataString($"{NhsNumber.System}|{check.Value}"));
    }

    private static RouteRequest ItemSearch(string type, IQueryCollection query)
    {
        if (!query.TryGetValue("patient", out var patientValues))
        {
            throw new InvalidRequestException($"{type} searches must name one patient: {type}?patient={{id}}.");
        }

        var patient = Single("patient", patientValues);
        var patientId = patient.StartsWith("Patient/", StringComparison.Ordinal) ? patient["Patient/".Length..] : patient;
        if (!FhirId().IsMatch(patientId))
        {
            throw new InvalidRequestException("patient must be the id of a Patient at this source (Patient/{id} or {id}).");
        }

        var forwarded = new List<string> { "patient=" + Uri.EscapeDataString(patientId) };
        foreach (var (name, values) in query.OrderBy(q => q.Key, StringComparer.Ordinal))
        {
            if (name == "patient")
            {
                continue;
            }

            if (!SearchParameters.Contains(name, StringComparer.Ordinal))
            {
                throw new InvalidRequestException(Refusal(name, type));
            }

            foreach (var value in values)
            {
                if (value is null || value.Length > MaxValueLength)
                {
                    throw new InvalidRequestException($"The value of '{name}' is longer than {MaxValueLength} characters.");
                }

                if (name == "_count" && (!int.TryParse(value, out var count) || count is < 1 or > 1000))
                {
                    throw new InvalidRequestException("_count must be a whole number from 1 to 1000.");
                }

                if (name == "_sort" && !SortList().IsMatch(value))
                {
                    throw new InvalidRequestException("_sort takes search parameter names, optionally with '-' for descending.");
                }

                forwarded.Add(Uri.EscapeDataString(name) + "=" + Uri.EscapeDataString(value));
            }
        }

        return new RouteRequest(RouteKind.PatientSearch, type, patientId, null, "/" + type, string.Join('&', forwarded));
    }

    private static string Refusal(string name, string type)
    {
        var bare = name.Split(':', '.')[0];
        var why = bare switch
        {
            "_include" or "_revinclude" => "would bring other resources with the results",
            "_has" => "searches by other resources' contents",
            "_elements" or "_summary" => "would change what the source returns, and could hide the security labels the gateway checks",
            "_contained" or "_containedType" => "changes how contained items are returned",
            "_format" => "the gateway answers FHIR JSON",
            _ when name.Contains('.', StringComparison.Ordinal) => "is a chained search",
            _ when name.Contains(':', StringComparison.Ordinal) => "uses a modifier",
            _ => "is not one of the parameters the source route allows",
        };
        return $"'{Bounded(name)}' is not accepted on {type} searches: it {why}. Allowed: patient, {string.Join(", ", SearchParameters)}.";
    }

    private static string Single(string name, StringValues values) =>
        values.Count == 1 && values[0] is { Length: > 0 and <= MaxValueLength } value
            ? value
            : throw new InvalidRequestException($"Give {name} once, with a value of at most {MaxValueLength} characters.");

    /// <summary>Caller text echoed in a refusal is cut short, so an answer never grows with what was sent.</summary>
    internal static string Bounded(string text) => text.Length <= 64 ? text : text[..64] + "…";
}

/// <summary>A kind of record the caller's agreement with this source does not cover (403, not 400).</summary>
internal sealed class ForbiddenTypeException(string resourceType) : Exception(resourceType)
{
    public string ResourceType { get; } = resourceType;
}
