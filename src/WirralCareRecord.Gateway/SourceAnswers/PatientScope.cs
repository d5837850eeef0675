namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>
/// The one patient an answer may be about: their NHS number and the ids the source knows them by, with what the
/// caller may see (the agreement's data categories) and which labels withhold an item.
/// </summary>
internal sealed record PatientScope(string NhsNumber, IReadOnlySet<string> SourcePatientIds, SourceLocation Source, Func<string, bool> Permits, RestrictedLabels Labels);

/// <summary>Why an item was left out. The clinician is told how many, and of which kind; never what they were.</summary>
internal enum Withholding
{
    None,

    /// <summary>Not tied to the patient, or naming someone else (another patient, a contained Patient with another NHS number).</summary>
    NotThisPatient,

    /// <summary>A restricted security label on the item or on anything it contains.</summary>
    Restricted,

    /// <summary>A kind of record the sharing agreement does not cover.</summary>
    OutsideAgreement,

    /// <summary>Could not be decided (unknown type, unreadable JSON, no patient element): withheld, fail closed.</summary>
    Undecidable,
}

/// <summary>
/// The per-resource safety rules, applied to <see cref="ResourceFacts"/>: the same for the federated read and the
/// source route, for every resource and everything it contains.
/// </summary>
internal static class DisclosurePolicy
{
    /// <summary>What to do with one resource of a source's answer about <paramref name="scope"/>'s patient.</summary>
    public static Withholding Decide(ResourceFacts facts, PatientScope scope)
    {
        if (facts.Malformed || !FhirModelTables.IsKnownResource(facts.ResourceType) || facts.Contained.Exists(c => c.Malformed || !FhirModelTables.IsKnownResource(c.ResourceType)))
        {
            return Withholding.Undecidable;
        }

        if (facts.AnyRestricted)
        {
            return Withholding.Restricted;
        }

        var type = facts.ResourceType!;
        if (type == "Patient")
        {
            // The patient's own record: the id the source knows them by and, where it carries one, the same NHS number.
            return facts.Id is { } id && scope.SourcePatientIds.Contains(id)
                && AllAre(facts.NhsNumbers, scope.NhsNumber)
                && AllContainedSafe(facts, facts, scope)
                    ? Withholding.None
                    : Withholding.NotThisPatient;
        }

        if (!scope.Permits(type))
        {
            return Withholding.OutsideAgreement;
        }

        var patientElements = FhirModelTables.PatientElementsOf(type);
        if (patientElements.Length == 0)
        {
            return Withholding.Undecidable;
        }

        var tied = false;
        foreach (var reference in facts.References)
        {
            if (reference.Direct && Array.IndexOf(patientElements, reference.RootElement) >= 0)
            {
                if (!Ties(reference, facts, scope))
                {
                    return Withholding.NotThisPatient;
                }

                tied = true;
            }
            else if (NamesAPatient(reference, facts) && !Ties(reference, facts, scope))
            {
                return Withholding.NotThisPatient;
            }
        }

        if (!tied)
        {
            return Withholding.Undecidable;
        }

        return AllContainedSafe(facts, facts, scope) ? Withholding.None : Withholding.NotThisPatient;
    }

    // Loops, not lambdas: a lambda capturing a parameter costs every call a closure object, taken or not (a profile found
    // one per resource decided).
    private static bool AllContainedSafe(ResourceFacts resource, ResourceFacts container, PatientScope scope)
    {
        foreach (var contained in resource.Contained)
        {
            if (!ContainedIsSafe(contained, container, scope))
            {
                return false;
            }
        }

        return true;
    }

    private static bool AllAre(List<string> values, string expected)
    {
        foreach (var value in values)
        {
            if (value != expected)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A contained resource is safe when it is not another patient and every patient it names is this one.</summary>
    private static bool ContainedIsSafe(ResourceFacts contained, ResourceFacts container, PatientScope scope)
    {
        if (contained.ResourceType == "Patient" && !IsThisPatient(contained, scope))
        {
            return false;
        }

        var patientElements = FhirModelTables.PatientElementsOf(contained.ResourceType!);
        foreach (var reference in contained.References)
        {
            var onPatientElement = reference.Direct && Array.IndexOf(patientElements, reference.RootElement) >= 0;
            if ((onPatientElement || NamesAPatient(reference, container)) && !Ties(reference, container, scope))
            {
                return false;
            }
        }

        return AllContainedSafe(contained, container, scope);
    }

    private static bool IsThisPatient(ResourceFacts patient, PatientScope scope) =>
        patient.NhsNumbers.Count > 0 && AllAre(patient.NhsNumbers, scope.NhsNumber);

    /// <summary>
    /// Whether a reference resolves to this patient: <c>Patient/{id}</c> relative or on the source's host, a contained
    /// Patient carrying the NHS number, or an identifier-only reference with the NHS number. An identifier given beside a
    /// reference must agree with it. Anything else (another server, a URN, another type) does not tie.
    /// </summary>
    private static bool Ties(ReferenceFact reference, ResourceFacts container, PatientScope scope)
    {
        if (reference.IdentifierSystem is not null || reference.IdentifierValue is not null)
        {
            var agrees = reference.IdentifierSystem == PatientMatching.NhsNumber.System && reference.IdentifierValue?.Replace(" ", "", StringComparison.Ordinal) == scope.NhsNumber;
            if (!agrees)
            {
                return false;
            }

            if (reference.Reference is null)
            {
                return reference.Type is null or "Patient";
            }
        }

        if (reference.Reference is not { Length: > 0 } value)
        {
            return false;
        }

        if (value[0] == '#')
        {
            var id = value[1..];
            return container.Contained.Find(c => c.Id == id) is { ResourceType: "Patient" } contained && IsThisPatient(contained, scope);
        }

        var relative = value.Contains("://", StringComparison.Ordinal) ? scope.Source.LocalPart(value)?.TrimStart('/') : value;
        return relative is not null && PatientIdOf(relative.AsSpan(), out var patientId) && IsSourcePatient(scope, patientId);
    }

    private static bool IsSourcePatient(PatientScope scope, ReadOnlySpan<char> patientId) =>
        scope.SourcePatientIds is HashSet<string> set && set.TryGetAlternateLookup<ReadOnlySpan<char>>(out var lookup)
            ? lookup.Contains(patientId)
            : scope.SourcePatientIds.Contains(patientId.ToString());

    /// <summary>Whether a reference (anywhere in the resource) names a patient at all, so it must be this one.</summary>
    private static bool NamesAPatient(ReferenceFact reference, ResourceFacts container)
    {
        if (reference.Type == "Patient" || reference.IdentifierSystem == PatientMatching.NhsNumber.System)
        {
            return true;
        }

        if (reference.Reference is not { Length: > 0 } value)
        {
            return false;
        }

        if (value[0] == '#')
        {
            var id = value[1..];
            return container.Contained.Find(c => c.Id == id)?.ResourceType == "Patient";
        }

        // Relative "Patient/x", or an absolute URL on any server whose path ends in "Patient/x[/_history/v]": read
        // from the end, segment by segment, without splitting the text into new strings.
        var path = value.AsSpan();
        var cut = path.IndexOfAny('?', '#');
        path = (cut >= 0 ? path[..cut] : path).TrimEnd('/');
        var last = path.LastIndexOf('/');
        if (last < 0)
        {
            return false;
        }

        var rest = path[..last];
        var second = LastSegment(rest, out rest);
        if (second.SequenceEqual("Patient"))
        {
            return true;
        }

        if (!second.SequenceEqual("_history") || rest.IsEmpty)
        {
            return false;
        }

        _ = LastSegment(rest, out rest);
        return !rest.IsEmpty && LastSegment(rest, out _).SequenceEqual("Patient");

        static ReadOnlySpan<char> LastSegment(ReadOnlySpan<char> text, out ReadOnlySpan<char> before)
        {
            var slash = text.LastIndexOf('/');
            before = slash < 0 ? [] : text[..slash];
            return slash < 0 ? text : text[(slash + 1)..];
        }
    }

    /// <summary>The id in <c>Patient/{id}</c> or <c>Patient/{id}/_history/{v}</c>; null for anything else.</summary>
    internal static string? PatientIdOf(string relative) =>
        PatientIdOf(relative.AsSpan(), out var id) ? id.ToString() : null;

    private static bool PatientIdOf(ReadOnlySpan<char> relative, out ReadOnlySpan<char> id)
    {
        id = default;
        var cut = relative.IndexOfAny('?', '#');
        var path = cut >= 0 ? relative[..cut] : relative;
        // Five places: a path of more than four segments puts its remainder in the fifth, and is refused as one.
        Span<Range> parts = stackalloc Range[5];
        var count = path.Split(parts, '/');
        var versioned = count == 4 && path[parts[2]].SequenceEqual("_history");
        if (!path[parts[0]].SequenceEqual("Patient") || count < 2 || path[parts[1]].IsEmpty || (count != 2 && !versioned))
        {
            return false;
        }

        id = path[parts[1]];
        return true;
    }
}
