using Hl7.Fhir.Model;
using Microsoft.Extensions.Caching.Memory;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.SourceProxy;

/// <summary>The patient a source route request is about, admitted by the rules, and notices for the answer (break-glass).</summary>
internal sealed record RoutePatient(string NhsNumber, string SourcePatientId, IReadOnlyList<OperationOutcome.IssueComponent> Notices);

/// <summary>
/// Works out whose record a source route request is about and applies the federated read's patient rules to it before
/// anything of theirs is passed on: objection and break-glass, demographic corroboration across the caller's sources
/// (a source the federated read would leave out is refused here too), and the legitimate-relationship rule. Look-ups
/// are bounded: one Patient read at the source, and one Patient search per source the locator plans, both kept briefly.
/// </summary>
internal sealed class RoutePatientGate(FederatedRecordService federation, RecordLocator locator, DemographicsService demographics, FhirSourceClient sources, IMemoryCache cache)
{
    private static readonly TimeSpan Remembered = TimeSpan.FromMinutes(1);

    /// <summary>The NHS number of the source's Patient <paramref name="patientId"/>, from one read kept for a minute.</summary>
    public async Task<string> NhsNumberOfAsync(SourceGrant grant, string patientId, string correlationId, CancellationToken cancellationToken)
    {
        var key = $"route-patient:{grant.Source.OdsCode}:{patientId}";
        if (cache.TryGetValue(key, out string? known) && known is not null)
        {
            return known;
        }

        Patient patient;
        try
        {
            patient = await sources.ReadAsync<Patient>(grant.Source.OdsCode, $"{grant.Source.FhirBaseUrl.ToString().TrimEnd('/')}/Patient/{Uri.EscapeDataString(patientId)}", correlationId, cancellationToken);
        }
        catch (SourceFailureException)
        {
            throw CannotConfirm(grant);
        }
        catch (SourceAnswers.SourceBuffersFullException)
        {
            throw new GatewayBusyException(grant.Source.OdsCode);
        }

        var numbers = patient.Identifier.Where(i => i.System == NhsNumber.System).Select(i => NhsNumber.Check(i.Value)).Where(c => c.IsValid).Select(c => c.Value!).Distinct(StringComparer.Ordinal).ToList();
        if (numbers.Count != 1 || patient.Id != patientId)
        {
            throw CannotConfirm(grant);
        }

        cache.Set(key, numbers[0], Remembered);
        return numbers[0];
    }

    /// <summary>Applies the patient rules for this source; throws a <see cref="GatewayException"/> that says why when they refuse.</summary>
    public async Task<RoutePatient> AdmitAsync(CallerIdentity caller, SourceGrant grant, string nhsNumber, string? sourcePatientId, string? breakGlass, string correlationId, CancellationToken cancellationToken)
    {
        var notices = new List<OperationOutcome.IssueComponent>();
        if (RecordRules.Objection(federation, nhsNumber, breakGlass) is { } objected)
        {
            notices.Add(objected);
        }

        var (results, unresolved) = await CorroboratedAsync(caller, grant, nhsNumber, correlationId, cancellationToken);
        var name = $"{grant.Source.Name} ({grant.Source.OdsCode})";
        var here = results.FirstOrDefault(r => string.Equals(r.OdsCode, grant.Source.OdsCode, StringComparison.OrdinalIgnoreCase));
        switch (here?.Outcome)
        {
            case SourceOutcome.Returned:
                break;
            case SourceOutcome.NoMatch:
                throw new NotFoundException($"{name} holds no record for this NHS number.");
            case SourceOutcome.DemographicsDiffer when unresolved:
                // The federated read merges none of them (hazard WCR-H26), so this source's record is not shown either. The
                // values they disagree on are never given: the caller may not know which, if any, is their patient's.
                throw new GatewayException(
                    StatusCodes.Status403Forbidden,
                    OperationOutcome.IssueType.Conflict,
                    $"The organisations holding a record for this NHS number disagree on the patient's demographics and none could be confirmed as this patient's, so the combined record leaves them all out and {name}'s is not shown here either.");
            case SourceOutcome.DemographicsDiffer or SourceOutcome.Conflict:
                throw new GatewayException(StatusCodes.Status403Forbidden, OperationOutcome.IssueType.Conflict, $"{name} {here.Detail}. The combined record leaves it out, so it is not shown here either.");
            default:
                throw new GatewayException(StatusCodes.Status502BadGateway, OperationOutcome.IssueType.Transient, $"{name} {here?.Detail ?? "could not be asked"}, so whose record this is could not be confirmed.");
        }

        if (sourcePatientId is not null && here.Patient!.Id != sourcePatientId)
        {
            throw new GatewayException(StatusCodes.Status403Forbidden, OperationOutcome.IssueType.Conflict, $"Patient/{SourceRouteContract.Bounded(sourcePatientId)} is not the record {name} holds as current for this NHS number, so it is not shown.");
        }

        if (RecordRules.Relationship(federation, results, caller, breakGlass) is { } noRelationship)
        {
            notices.Add(noRelationship);
        }

        return new RoutePatient(nhsNumber, here.Patient!.Id!, notices);
    }

    /// <summary>
    /// Each planned source's Patient for the NHS number (and, where the relationship rule needs them, its encounters),
    /// corroborated exactly as the federated read does; kept a minute per caller organisation and NHS number.
    /// </summary>
    private async Task<(IReadOnlyList<SourceResult> Results, bool Unresolved)> CorroboratedAsync(CallerIdentity caller, SourceGrant grant, string nhsNumber, string correlationId, CancellationToken cancellationToken)
    {
        var key = $"route-verdict:{caller.OdsCode}:{nhsNumber}";
        if (cache.TryGetValue(key, out CorroboratedRecord? known) && known is not null && known.Results.Any(r => r.OdsCode == grant.Source.OdsCode))
        {
            return (known.Results, known.Unresolved);
        }

        var granted = federation.SelectSources(caller);
        var plan = await locator.PlanAsync(granted, caller.OdsCode, nhsNumber, sweep: false, correlationId, cancellationToken);
        var asked = plan.Asked.Any(g => g.Source.OdsCode == grant.Source.OdsCode) ? plan.Asked : [.. plan.Asked, grant];
        IReadOnlyList<string> types = federation.RequiresLegitimateRelationship(caller) ? ["Encounter"] : [];
        var fetched = await federation.FetchAsync(asked, nhsNumber, correlationId, cancellationToken, types);
        var corroborated = await RecordCorroboration.ApplyAsync(
            fetched,
            null,
            token => demographics.PatientForReadAsync(plan, nhsNumber, correlationId, token),
            cancellationToken);
        cache.Set(key, corroborated, Remembered);
        return (corroborated.Results, corroborated.Unresolved);
    }

    private static GatewayException CannotConfirm(SourceGrant grant) =>
        new(StatusCodes.Status502BadGateway, OperationOutcome.IssueType.Incomplete, $"Organisation {grant.Source.OdsCode} could not confirm whose record this is, so it has not been shown.");
}
