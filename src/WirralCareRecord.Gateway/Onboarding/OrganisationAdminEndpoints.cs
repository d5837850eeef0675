using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>What an admin sends to register or update an organisation.</summary>
/// <param name="RecordSystem">
/// The organisation's own record system, from which clinicians open the record by SMART context launch; null for none
/// (on PUT, null removes it). On an organisation past Registered a change is proposed for a second administrator.
/// </param>
public sealed record OrganisationRequest(
    string? OdsCode,
    string Name,
    OrganisationKind Kind,
    string FhirBaseUrl,
    int Phase,
    double? TimeoutSeconds = null,
    int? StaffCount = null,
    IReadOnlyList<OrganisationContact>? Contacts = null,
    SourceAuthentication? Authentication = null,
    RecordSystem? RecordSystem = null);

/// <summary>A move through the lifecycle, and why.</summary>
public sealed record TransitionRequest(LifecycleState To, string Reason);

/// <summary>The designated test patient the flow test fetches (one of <c>Registry:TestPatients</c>; the first when not given).</summary>
public sealed record FlowTestRequest(string? TestNhsNumber = null);

/// <summary>A decision on a proposed connection or record system change, and why.</summary>
/// <param name="ProposalId">The proposal decided on, as the approver read it: a newer proposal is never approved by mistake.</param>
public sealed record ConnectionDecisionRequest(string ProposalId, string Reason);

/// <summary>An organisation as the admin API shows it: everything in the registry, and where it may go next.</summary>
public sealed record OrganisationView(
    string OdsCode,
    string Name,
    OrganisationKind Kind,
    string FhirBaseUrl,
    int Phase,
    LifecycleState State,
    double? TimeoutSeconds,
    int? StaffCount,
    IReadOnlyList<OrganisationContact> Contacts,
    SourceAuthentication Authentication,
    FlowTestSummary? LastFlowTest,
    IReadOnlyList<string> Agreements,
    IReadOnlyList<LifecycleState> AllowedTransitions,
    int Revision,
    ProposedConnectionChange? PendingConnectionChange = null,
    LifecycleState? ResumeAfterFlowTest = null,
    RecordSystem? RecordSystem = null)
{
    public static OrganisationView Of(Organisation o, RegistrySnapshot registry) => new(
        o.OdsCode, o.Name, o.Kind, o.FhirBaseUrl.ToString().TrimEnd('/'), o.Phase, o.State, o.Timeout?.TotalSeconds, o.StaffCount,
        o.Contacts, o.Authentication, o.LastFlowTest, [.. registry.AgreementsOf(o.OdsCode).Select(a => $"{a.Id} v{a.Version}")], Lifecycle.AllowedFrom(o.State), o.Revision,
        o.PendingConnectionChange, o.ResumeAfterFlowTest, o.RecordSystem);
}

/// <summary>
/// The onboarding admin API for organisations: register, update, move through the lifecycle, flow-test, and read the
/// history. Every change needs If-Match with the organisation's ETag. A change to the connection (base URL, authentication,
/// token endpoint, secret or certificate name) of an organisation that has been flow-tested is only proposed: a second
/// administrator approves it, and the organisation is out of service until a flow test of the new connection passes.
/// A change to the record system (whose issuer a context launch trusts) of an organisation past Registered is proposed
/// the same way; approving it leaves the organisation in service.
/// </summary>
internal static class OrganisationAdminEndpoints
{
    public static RouteGroupBuilder MapOrganisationAdmin(this RouteGroupBuilder admin)
    {
        var organisations = admin.MapGroup("/organisations").WithTags("Organisations");
        organisations.MapGet("/", List).WithSummary("Organisations, filtered by phase, state or kind");
        organisations.MapGet("/{odsCode}", Get).WithSummary("One organisation, with its ETag");
        organisations.MapPost("/", RegisterAsync).WithSummary("Register an organisation (it starts Registered)");
        organisations.MapPut("/{odsCode}", UpdateAsync).WithSummary("Change an organisation's details (not its state); needs If-Match. A connection change of a flow-tested organisation, or a record system change of one past Registered, is proposed (202) for a second admin to approve");
        organisations.MapPost("/{odsCode}/connection-change/approve", ApproveConnectionChangeAsync).WithSummary("Approve another admin's proposed connection or record system change; needs If-Match. A connection change puts the organisation out of service until a flow test passes");
        organisations.MapPost("/{odsCode}/connection-change/reject", RejectConnectionChangeAsync).WithSummary("Reject (or, as its proposer, withdraw) a proposed connection change; needs If-Match");
        organisations.MapPost("/{odsCode}/transitions", TransitionAsync).WithSummary("Move an organisation through the lifecycle");
        organisations.MapGet("/{odsCode}/history", History).WithSummary("Every change to the organisation: who, when, why");
        organisations.MapPost("/{odsCode}/flow-tests", RunFlowTestAsync).WithSummary("Test the organisation's information flow now and store the report");
        organisations.MapGet("/{odsCode}/flow-tests", ListFlowTestsAsync).WithSummary("The organisation's flow test reports, newest first");
        return admin;
    }

    private static Ok<List<OrganisationView>> List(IOrganisationRegistry registry, int? phase = null, LifecycleState? state = null, OrganisationKind? kind = null)
    {
        var snapshot = registry.Current;
        return TypedResults.Ok(snapshot.Organisations
            .Where(o => (phase is null || o.Phase == phase) && (state is null || o.State == state) && (kind is null || o.Kind == kind))
            .OrderBy(o => o.Phase).ThenBy(o => o.OdsCode, StringComparer.Ordinal)
            .Select(o => OrganisationView.Of(o, snapshot)).ToList());
    }

    private static Ok<OrganisationView> Get(string odsCode, IOrganisationRegistry registry, HttpContext context)
    {
        var snapshot = registry.Current;
        var organisation = snapshot.Find(odsCode) ?? throw RegistryRefusal.NotFound($"Organisation {odsCode}");
        context.Response.Headers.ETag = organisation.ETag;
        return TypedResults.Ok(OrganisationView.Of(organisation, snapshot));
    }

    private static async Task<Created<OrganisationView>> RegisterAsync(OrganisationRequest request, AdminActions actions, SourceConnectionRule urls, HttpContext context)
    {
        var odsCode = request.OdsCode?.ToUpperInvariant() ?? "";
        var updated = await actions.ChangeAsync(context, $"Organization/{odsCode}", "register organisation", registry =>
        {
            if (registry.Find(odsCode) is not null)
            {
                throw RegistryRefusal.Conflict([$"{odsCode} is already registered; change it with PUT /admin/organisations/{odsCode}."]);
            }

            var organisation = Build(request, odsCode, LifecycleState.Registered, registry, urls);
            return registry.With(organisation, new RegistryChange($"Organization/{odsCode}", "registered", actions.Now, actions.Actor(context), "Registered", To: LifecycleState.Registered));
        });
        var created = updated.Find(odsCode)!;
        context.Response.Headers.ETag = created.ETag;
        return TypedResults.Created($"/admin/organisations/{odsCode}", OrganisationView.Of(created, updated));
    }

    private static async Task<Results<Ok<OrganisationView>, Accepted<OrganisationView>>> UpdateAsync(string odsCode, OrganisationRequest request, AdminActions actions, SourceConnectionRule urls, HttpContext context)
    {
        var ifMatch = context.Request.Headers.IfMatch.ToString();
        var proposed = false;
        var updated = await actions.ChangeAsync(context, $"Organization/{odsCode}", "update organisation details", registry =>
        {
            var current = registry.Find(odsCode) ?? throw RegistryRefusal.NotFound($"Organisation {odsCode}");
            AdminActions.CheckPrecondition(current, ifMatch);
            if (request.OdsCode is { Length: > 0 } body && !string.Equals(body, current.OdsCode, StringComparison.OrdinalIgnoreCase))
            {
                throw RegistryRefusal.Invalid([$"The ODS code cannot change ({current.OdsCode} in the address, {Bounded(body)} in the body); register the new code instead."]);
            }

            var requested = Build(request, current.OdsCode, current.State, registry, urls);
            var details = DetailChanges(current, requested);
            var connectionChanges = SourceConnection.Differences(current.Connection, requested.Connection);
            var recordSystemChange = RecordSystemDifference(current.RecordSystem, requested.RecordSystem);
            var proposeConnection = connectionChanges.Count > 0 && NeedsSecondAdmin(current.State);
            var proposeRecordSystem = recordSystemChange is not null && RecordSystemNeedsSecondAdmin(current.State);

            // What one administrator may change alone is applied now; the rest waits for a second administrator.
            var direct = Details(current, requested);
            var directChanges = new List<string>(details);
            var action = "details updated";
            if (connectionChanges.Count > 0 && !proposeConnection)
            {
                // Never flow-tested: nothing reads it yet, but any old flow test was of the old connection.
                direct = direct with { FhirBaseUrl = requested.FhirBaseUrl, Authentication = requested.Authentication, LastFlowTest = null };
                directChanges.InsertRange(0, connectionChanges);
                action = "connection changed";
            }

            if (recordSystemChange is not null && !proposeRecordSystem)
            {
                direct = direct with { RecordSystem = requested.RecordSystem };
                directChanges.Add(recordSystemChange);
            }

            if (!proposeConnection && !proposeRecordSystem)
            {
                if (directChanges.Count == 0)
                {
                    throw RegistryRefusal.Invalid(["Nothing would change."]);
                }

                return registry.With(
                    direct,
                    new RegistryChange($"Organization/{current.OdsCode}", action, actions.Now, actions.Actor(context), string.Join("; ", directChanges)));
            }

            if (current.PendingConnectionChange is { } pending)
            {
                throw RegistryRefusal.Conflict([$"A connection change proposed by {pending.ProposedByName} ({pending.Id}) is waiting for approval; approve or reject it before proposing another."]);
            }

            var proposedChanges = new List<string>(proposeConnection ? connectionChanges : []);
            if (proposeRecordSystem)
            {
                proposedChanges.Add(recordSystemChange!);
            }

            var proposal = new ProposedConnectionChange(
                $"cc-{actions.Now.UtcDateTime:yyyyMMddHHmmss}-{Guid.NewGuid().ToString("N")[..6]}",
                proposeConnection ? requested.Connection : direct.Connection, actions.ActorId(context), actions.Actor(context), actions.Now, proposedChanges)
            {
                RecordSystem = proposeRecordSystem ? new RecordSystemChange(requested.RecordSystem) : null,
                ProposesConnection = proposeConnection,
            };
            proposed = true;
            return registry.With(
                direct with { PendingConnectionChange = proposal },
                new RegistryChange(
                    $"Organization/{current.OdsCode}", "connection change proposed", actions.Now, actions.Actor(context),
                    $"{proposal.Id}, waiting for a second administrator: {string.Join("; ", proposedChanges)}" + (directChanges.Count > 0 ? $". Also updated: {string.Join("; ", directChanges)}" : "")));
        }, describe: next => Describe(next, odsCode));
        var organisation = updated.Find(odsCode)!;
        context.Response.Headers.ETag = organisation.ETag;
        return proposed
            ? TypedResults.Accepted($"/admin/organisations/{organisation.OdsCode}", OrganisationView.Of(organisation, updated))
            : TypedResults.Ok(OrganisationView.Of(organisation, updated));
    }

    /// <summary>Organisations whose connection has been tested (or is in use): changing it needs a second administrator.</summary>
    private static bool NeedsSecondAdmin(LifecycleState state) =>
        state is LifecycleState.FlowTested or LifecycleState.Pilot or LifecycleState.Live or LifecycleState.Suspended;

    /// <summary>
    /// Organisations whose record system needs a second administrator to change: every one that has signed an agreement.
    /// A consumer views shared records from AgreementSigned on (<c>SharingRules.StandingProblem</c>), without ever being
    /// flow-tested, and a context launch from its record system signs someone in as its clinician; only a Registered
    /// organisation's clinicians can view nothing yet.
    /// </summary>
    private static bool RecordSystemNeedsSecondAdmin(LifecycleState state) => state is not LifecycleState.Registered;

    private static async Task<Ok<OrganisationView>> ApproveConnectionChangeAsync(string odsCode, ConnectionDecisionRequest request, AdminActions actions, SourceConnectionRule urls, HttpContext context)
    {
        var ifMatch = context.Request.Headers.IfMatch.ToString();
        var reason = request.Reason?.Trim() ?? "";
        var updated = await actions.ChangeAsync(context, $"Organization/{odsCode}", "approve connection change", registry =>
        {
            var current = registry.Find(odsCode) ?? throw RegistryRefusal.NotFound($"Organisation {odsCode}");
            AdminActions.CheckPrecondition(current, ifMatch);
            var pending = PendingProposal(current, request.ProposalId);
            if (string.Equals(pending.ProposedBy, actions.ActorId(context), StringComparison.Ordinal))
            {
                throw new RegistryRefusal(StatusCodes.Status403Forbidden, $"You proposed {pending.Id}; a connection change needs a second administrator's approval (two-person rule).");
            }

            CheckReason(reason);
            if (pending.RecordSystem?.To is { } recordSystem && IssuerProblem(recordSystem.Issuer, current.OdsCode, registry, urls) is { } issuerProblem)
            {
                // Checked again now: the rule or the other organisations' record systems may have changed since the proposal.
                throw RegistryRefusal.Conflict([$"{pending.Id} cannot be approved: {issuerProblem} Reject it and propose the change again."]);
            }

            var by = actions.Actor(context);
            var connection = pending.ProposesConnection ? pending.Connection : current.Connection;
            var connectionChanged = SourceConnection.Differences(current.Connection, connection).Count > 0;
            var changed = current with
            {
                FhirBaseUrl = connection.FhirBaseUrl,
                Authentication = connection.Authentication,
                PendingConnectionChange = null,
                LastFlowTest = connectionChanged ? null : current.LastFlowTest,
                RecordSystem = pending.RecordSystem is { } system ? system.To : current.RecordSystem,
            };
            var history = new List<RegistryChange>
            {
                new($"Organization/{current.OdsCode}", "connection change approved", actions.Now, by,
                    $"{pending.Id} proposed by {pending.ProposedByName}: {string.Join("; ", pending.Changes)}. {reason}"),
            };
            // The record system is not the source: a change to it alone leaves the organisation in service.
            if (connectionChanged && current.State is LifecycleState.Pilot or LifecycleState.Live)
            {
                changed = changed with { State = LifecycleState.Suspended, ResumeAfterFlowTest = current.State };
                history.Add(new($"Organization/{current.OdsCode}", "transition", actions.Now, by,
                    $"Out of service until a flow test of the changed connection passes; then back to {current.State}.", current.State, LifecycleState.Suspended));
            }

            var next = registry.With(changed, history[0]);
            return next with { History = [.. next.History, .. history.Skip(1)] };
        }, describe: next => Describe(next, odsCode));
        var organisation = updated.Find(odsCode)!;
        context.Response.Headers.ETag = organisation.ETag;
        return TypedResults.Ok(OrganisationView.Of(organisation, updated));
    }

    private static async Task<Ok<OrganisationView>> RejectConnectionChangeAsync(string odsCode, ConnectionDecisionRequest request, AdminActions actions, HttpContext context)
    {
        var ifMatch = context.Request.Headers.IfMatch.ToString();
        var reason = request.Reason?.Trim() ?? "";
        var updated = await actions.ChangeAsync(context, $"Organization/{odsCode}", "reject connection change", registry =>
        {
            var current = registry.Find(odsCode) ?? throw RegistryRefusal.NotFound($"Organisation {odsCode}");
            AdminActions.CheckPrecondition(current, ifMatch);
            var pending = PendingProposal(current, request.ProposalId);
            CheckReason(reason);
            return registry.With(
                current with { PendingConnectionChange = null },
                new RegistryChange($"Organization/{current.OdsCode}", "connection change rejected", actions.Now, actions.Actor(context),
                    $"{pending.Id} proposed by {pending.ProposedByName} ({string.Join("; ", pending.Changes)}) not made. {reason}"));
        });
        var organisation = updated.Find(odsCode)!;
        context.Response.Headers.ETag = organisation.ETag;
        return TypedResults.Ok(OrganisationView.Of(organisation, updated));
    }

    private static ProposedConnectionChange PendingProposal(Organisation organisation, string? proposalId) =>
        organisation.PendingConnectionChange is { } pending
            ? string.Equals(pending.Id, proposalId, StringComparison.Ordinal)
                ? pending
                : throw RegistryRefusal.Conflict([$"The connection change waiting for approval is {pending.Id}, not the one you named; read it again."])
            : throw RegistryRefusal.Conflict([$"{organisation.OdsCode} has no connection change waiting for approval."]);

    private static void CheckReason(string reason)
    {
        if (reason.Length is < 5 or > 1000)
        {
            throw RegistryRefusal.Invalid(["Give a reason (5 to 1000 characters); it is kept in the history."]);
        }
    }

    /// <summary>The audit description of a change: what the history entry it added says, from and to (names, never secret values).</summary>
    private static string? Describe(RegistrySnapshot next, string odsCode) =>
        next.History.LastOrDefault(h => string.Equals(h.Subject, $"Organization/{odsCode}", StringComparison.OrdinalIgnoreCase)) is { } change
            ? $"{change.Action}: {change.Reason}"
            : null;

    /// <summary><paramref name="current"/> with the details (not the connection, record system, state or flow test) of <paramref name="requested"/>.</summary>
    private static Organisation Details(Organisation current, Organisation requested) => current with
    {
        Name = requested.Name,
        Kind = requested.Kind,
        Phase = requested.Phase,
        Timeout = requested.Timeout,
        StaffCount = requested.StaffCount,
        Contacts = requested.Contacts,
    };

    private static List<string> DetailChanges(Organisation from, Organisation to)
    {
        var changes = new List<string>();
        void Compare(string field, object? before, object? after)
        {
            var b = before?.ToString() ?? "";
            var a = after?.ToString() ?? "";
            if (!string.Equals(b, a, StringComparison.Ordinal))
            {
                changes.Add($"{field}: {(b.Length == 0 ? "(none)" : b)} → {(a.Length == 0 ? "(none)" : a)}");
            }
        }

        Compare("name", from.Name, to.Name);
        Compare("kind", from.Kind, to.Kind);
        Compare("phase", from.Phase, to.Phase);
        Compare("timeoutSeconds", from.Timeout?.TotalSeconds, to.Timeout?.TotalSeconds);
        Compare("staffCount", from.StaffCount, to.StaffCount);
        if (!from.Contacts.SequenceEqual(to.Contacts))
        {
            changes.Add($"contacts: {from.Contacts.Count} → {to.Contacts.Count}");
        }

        return changes;
    }

    /// <summary><c>recordSystem: old → new</c>, or null when it does not change.</summary>
    private static string? RecordSystemDifference(RecordSystem? from, RecordSystem? to)
    {
        var b = Describe(from) ?? "(none)";
        var a = Describe(to) ?? "(none)";
        return string.Equals(b, a, StringComparison.Ordinal) ? null : $"recordSystem: {b} → {a}";
    }

    private static string? Describe(RecordSystem? system) => system is null ? null : $"{system.Issuer} (client {system.ClientId})";

    /// <summary>
    /// Why <paramref name="issuer"/> cannot be <paramref name="odsCode"/>'s record system, or null: the launch's own rule
    /// for the issuer, and one organisation per issuer. Checked on every change and again when a proposal is approved.
    /// </summary>
    private static string? IssuerProblem(string issuer, string odsCode, RegistrySnapshot registry, SourceConnectionRule urls) =>
        // The same rule the launch applies to the issuer before trusting it: https, or http only where sources may be.
        urls.Problem(issuer) is { } problem ? "recordSystem.issuer: " + problem
        // A name before an @ reads as the host to a person checking the proposal, and is not one.
        : new Uri(issuer).UserInfo.Length > 0 ? $"recordSystem.issuer '{Bounded(issuer)}' must not carry user information (a name before @)."
        // A launch must name exactly one organisation, or the wrong organisation's agreements would apply.
        : registry.Organisations.FirstOrDefault(o => !string.Equals(o.OdsCode, odsCode, StringComparison.OrdinalIgnoreCase) && o.RecordSystem?.Issued(issuer) == true) is { } holder
            ? $"recordSystem.issuer is already {holder.OdsCode}'s record system."
            : null;

    private static string Bounded(string value) => value.Length <= 80 ? value : value[..80] + "…";

    internal static async Task<Ok<OrganisationView>> TransitionAsync(string odsCode, TransitionRequest request, AdminActions actions, IOptions<RegistryOptions> options, HttpContext context)
    {
        var ifMatch = context.Request.Headers.IfMatch.ToString();
        var reason = request.Reason?.Trim() ?? "";
        var updated = await actions.ChangeAsync(context, $"Organization/{odsCode}", $"transition to {request.To}", registry =>
        {
            var current = registry.Find(odsCode) ?? throw RegistryRefusal.NotFound($"Organisation {odsCode}");
            AdminActions.CheckPrecondition(current, ifMatch);
            if (reason.Length is < 5 or > 1000)
            {
                throw RegistryRefusal.Invalid(["Give a reason for the change (5 to 1000 characters); it is kept in the history."]);
            }

            var problems = Lifecycle.Problems(registry, current, request.To, actions.Now, options.Value.FlowTestMaxAge);
            if (problems.Count > 0)
            {
                throw RegistryRefusal.Conflict(problems);
            }

            // A move made by hand replaces any automatic return to service after a connection change.
            return registry.With(
                current with { State = request.To, ResumeAfterFlowTest = null },
                new RegistryChange($"Organization/{current.OdsCode}", "transition", actions.Now, actions.Actor(context), reason, current.State, request.To));
        });
        var organisation = updated.Find(odsCode)!;
        context.Response.Headers.ETag = organisation.ETag;
        return TypedResults.Ok(OrganisationView.Of(organisation, updated));
    }

    private static Ok<List<RegistryChange>> History(string odsCode, IOrganisationRegistry registry)
    {
        var snapshot = registry.Current;
        var organisation = snapshot.Find(odsCode) ?? throw RegistryRefusal.NotFound($"Organisation {odsCode}");
        var subject = $"Organization/{organisation.OdsCode}";
        return TypedResults.Ok(snapshot.History.Where(h => h.Subject == subject).OrderByDescending(h => h.At).ToList());
    }

    internal static async Task<Created<FlowTestReport>> RunFlowTestAsync(
        string odsCode, FlowTestRequest? request, IOrganisationRegistry registry, FlowTester tester, AdminActions actions, IOptions<RegistryOptions> options, HttpContext context)
    {
        var organisation = registry.Current.Find(odsCode) ?? throw RegistryRefusal.NotFound($"Organisation {odsCode}");
        var subject = $"Organization/{organisation.OdsCode}";
        if (organisation.State == LifecycleState.Withdrawn)
        {
            throw RegistryRefusal.Conflict([$"{organisation.OdsCode} has withdrawn; there is no flow to test."]);
        }

        // A flow test asks a live system for a patient: only a designated test patient, so it can never be used to find
        // out whether a source holds someone. The patient asked for is audited either way.
        var designated = TestPatients.Designated(options.Value);
        var check = string.IsNullOrWhiteSpace(request?.TestNhsNumber)
            ? designated.Count > 0 ? NhsNumber.Check(designated[0]) : NhsNumber.Check("")
            : NhsNumber.Check(request.TestNhsNumber);
        if (!check.IsValid)
        {
            var problem = designated.Count == 0 && string.IsNullOrWhiteSpace(request?.TestNhsNumber)
                ? "No test patients are designated (Registry:TestPatients); a flow test can only fetch a designated test patient."
                : $"testNhsNumber: {check.Problem}";
            await actions.RecordAsync(context, subject, $"flow test refused: {problem}", StatusCodes.Status400BadRequest);
            throw RegistryRefusal.Invalid([problem]);
        }

        var nhsNumber = check.Value!;
        if (!designated.Contains(nhsNumber, StringComparer.Ordinal))
        {
            const string problem = "testNhsNumber is not a designated test patient (Registry:TestPatients); a flow test can only fetch a designated test patient.";
            await actions.RecordAsync(context, subject, $"flow test refused: {problem}", StatusCodes.Status400BadRequest, nhsNumber);
            throw RegistryRefusal.Invalid([problem]);
        }

        if (registry.Current.ObjectionFor(nhsNumber) is not null)
        {
            const string problem = "The test patient has objected to their record being shared; choose another designated test patient.";
            await actions.RecordAsync(context, subject, $"flow test refused: {problem}", StatusCodes.Status409Conflict, nhsNumber);
            throw RegistryRefusal.Conflict([problem]);
        }

        var report = await tester.RunAsync(organisation, nhsNumber, actions.Actor(context), context.RequestAborted);
        var summary = new FlowTestSummary(report.Id, report.RanAt, report.Passed, report.Summary);
        await actions.ChangeAsync(context, subject, $"flow test {(report.Passed ? "passed" : "failed")}", latest =>
        {
            var current = latest.Find(odsCode) ?? throw RegistryRefusal.NotFound($"Organisation {odsCode}");
            var tested = current with { LastFlowTest = summary };
            var next = latest.With(tested, new RegistryChange(subject, report.Passed ? "flow test passed" : "flow test failed", report.RanAt, report.RanBy, report.Summary));
            if (report.Passed && current.ResumeAfterFlowTest is { } resume && current.State == LifecycleState.Suspended
                && Lifecycle.Problems(latest, tested, resume, actions.Now, options.Value.FlowTestMaxAge).Count == 0)
            {
                // Out of service only because its connection changed: the changed connection has now passed its flow test.
                next = next.With(
                    next.Find(odsCode)! with { State = resume, ResumeAfterFlowTest = null },
                    new RegistryChange(subject, "transition", actions.Now, report.RanBy, $"Back in service: flow test {report.Id} of the changed connection passed.", LifecycleState.Suspended, resume));
            }

            return next;
        }, nhsNumber: nhsNumber);
        return TypedResults.Created($"/admin/organisations/{organisation.OdsCode}/flow-tests", report);
    }

    private static async Task<Ok<IReadOnlyList<FlowTestReport>>> ListFlowTestsAsync(string odsCode, IOrganisationRegistry registry, FlowTester tester, HttpContext context)
    {
        var organisation = registry.Current.Find(odsCode) ?? throw RegistryRefusal.NotFound($"Organisation {odsCode}");
        return TypedResults.Ok(await tester.ListAsync(organisation.OdsCode, context.RequestAborted));
    }

    /// <summary>Checks the request whole, so the admin sees every problem at once.</summary>
    private static Organisation Build(OrganisationRequest request, string odsCode, LifecycleState state, RegistrySnapshot registry, SourceConnectionRule urls)
    {
        var problems = new List<string>();
        if (!OdsCode.IsValid(odsCode))
        {
            problems.Add($"odsCode '{odsCode}' is not an ODS code (3 to 6 letters and digits).");
        }

        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 200)
        {
            problems.Add("name is required (at most 200 characters).");
        }

        if (urls.Problem(request.FhirBaseUrl) is { } urlProblem)
        {
            problems.Add("fhirBaseUrl: " + urlProblem);
        }

        if (request.Phase < 1 || (registry.Phases.Count > 0 && registry.FindPhase(request.Phase) is null))
        {
            problems.Add($"phase {request.Phase} is not defined; the phases are {string.Join(", ", registry.Phases.Select(p => p.Number))}.");
        }

        if (request.TimeoutSeconds is < 0.05 or > 120)
        {
            problems.Add("timeoutSeconds must be between 0.05 and 120.");
        }

        if (request.StaffCount is < 0)
        {
            problems.Add("staffCount cannot be negative.");
        }

        if (urls.AuthenticationProblem(request.Authentication ?? SourceAuthentication.None) is { } authenticationProblem)
        {
            problems.Add(authenticationProblem);
        }

        problems.AddRange(urls.AdminProblems(odsCode, request.Authentication ?? SourceAuthentication.None));

        var recordSystem = request.RecordSystem is { } system ? new RecordSystem(system.Issuer?.Trim().TrimEnd('/') ?? "", system.ClientId?.Trim() ?? "") : null;
        if (recordSystem is not null)
        {
            if (IssuerProblem(recordSystem.Issuer, odsCode, registry, urls) is { } issuerProblem)
            {
                problems.Add(issuerProblem);
            }

            if (recordSystem.ClientId.Length is 0 or > 200 || !recordSystem.ClientId.All(c => c is > ' ' and < (char)127))
            {
                problems.Add("recordSystem.clientId is required: the gateway's client id at that record system (at most 200 printable characters, no spaces).");
            }
        }

        if (request.Contacts?.Any(c => string.IsNullOrWhiteSpace(c.Name) || string.IsNullOrWhiteSpace(c.Role)) == true)
        {
            problems.Add("every contact needs a name and a role.");
        }

        if (problems.Count > 0)
        {
            throw RegistryRefusal.Invalid(problems);
        }

        return new Organisation(
            odsCode, request.Name.Trim(), request.Kind, new Uri(request.FhirBaseUrl.TrimEnd('/')), request.Phase, state,
            request.TimeoutSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null, request.StaffCount)
        {
            Contacts = request.Contacts ?? [],
            Authentication = request.Authentication ?? SourceAuthentication.None,
            RecordSystem = recordSystem,
        };
    }
}
