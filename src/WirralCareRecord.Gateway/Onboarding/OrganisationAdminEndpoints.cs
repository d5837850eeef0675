using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Federation;
using WirralCareRecord.Gateway.PatientMatching;

namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>What an admin sends to register or update an organisation.</summary>
public sealed record OrganisationRequest(
    string? OdsCode,
    string Name,
    OrganisationKind Kind,
    string FhirBaseUrl,
    int Phase,
    double? TimeoutSeconds = null,
    int? StaffCount = null,
    IReadOnlyList<OrganisationContact>? Contacts = null,
    SourceAuthentication? Authentication = null);

/// <summary>A move through the lifecycle, and why.</summary>
public sealed record TransitionRequest(LifecycleState To, string Reason);

/// <summary>The named test patient the flow test fetches.</summary>
public sealed record FlowTestRequest(string TestNhsNumber);

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
    int Revision)
{
    public static OrganisationView Of(Organisation o, RegistrySnapshot registry) => new(
        o.OdsCode, o.Name, o.Kind, o.FhirBaseUrl.ToString().TrimEnd('/'), o.Phase, o.State, o.Timeout?.TotalSeconds, o.StaffCount,
        o.Contacts, o.Authentication, o.LastFlowTest, [.. registry.AgreementsOf(o.OdsCode).Select(a => $"{a.Id} v{a.Version}")], Lifecycle.AllowedFrom(o.State), o.Revision);
}

/// <summary>
/// The onboarding admin API for organisations: register, update, move through the lifecycle, flow-test, and read the
/// history. Updates need If-Match with the organisation's ETag.
/// </summary>
internal static class OrganisationAdminEndpoints
{
    public static RouteGroupBuilder MapOrganisationAdmin(this RouteGroupBuilder admin)
    {
        var organisations = admin.MapGroup("/organisations").WithTags("Organisations");
        organisations.MapGet("/", List).WithSummary("Organisations, filtered by phase, state or kind");
        organisations.MapGet("/{odsCode}", Get).WithSummary("One organisation, with its ETag");
        organisations.MapPost("/", RegisterAsync).WithSummary("Register an organisation (it starts Registered)");
        organisations.MapPut("/{odsCode}", UpdateAsync).WithSummary("Change an organisation's details (not its state); needs If-Match");
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

    private static async Task<Ok<OrganisationView>> UpdateAsync(string odsCode, OrganisationRequest request, AdminActions actions, SourceConnectionRule urls, HttpContext context)
    {
        var ifMatch = context.Request.Headers.IfMatch.ToString();
        var updated = await actions.ChangeAsync(context, $"Organization/{odsCode}", "update organisation details", registry =>
        {
            var current = registry.Find(odsCode) ?? throw RegistryRefusal.NotFound($"Organisation {odsCode}");
            AdminActions.CheckPrecondition(current, ifMatch, required: true);
            if (request.OdsCode is { Length: > 0 } body && !string.Equals(body, current.OdsCode, StringComparison.OrdinalIgnoreCase))
            {
                throw RegistryRefusal.Invalid([$"The ODS code cannot change ({current.OdsCode} in the address, {body} in the body); register the new code instead."]);
            }

            var organisation = Build(request, current.OdsCode, current.State, registry, urls) with { LastFlowTest = current.LastFlowTest, RecordSystem = current.RecordSystem };
            return registry.With(organisation, new RegistryChange($"Organization/{current.OdsCode}", "details updated", actions.Now, actions.Actor(context), "Details updated"));
        });
        var organisation = updated.Find(odsCode)!;
        context.Response.Headers.ETag = organisation.ETag;
        return TypedResults.Ok(OrganisationView.Of(organisation, updated));
    }

    internal static async Task<Ok<OrganisationView>> TransitionAsync(string odsCode, TransitionRequest request, AdminActions actions, IOptions<RegistryOptions> options, HttpContext context)
    {
        var ifMatch = context.Request.Headers.IfMatch.ToString();
        var reason = request.Reason?.Trim() ?? "";
        var updated = await actions.ChangeAsync(context, $"Organization/{odsCode}", $"transition to {request.To}", registry =>
        {
            var current = registry.Find(odsCode) ?? throw RegistryRefusal.NotFound($"Organisation {odsCode}");
            AdminActions.CheckPrecondition(current, ifMatch, required: false);
            if (reason.Length is < 5 or > 1000)
            {
                throw RegistryRefusal.Invalid(["Give a reason for the change (5 to 1000 characters); it is kept in the history."]);
            }

            var problems = Lifecycle.Problems(registry, current, request.To, actions.Now, options.Value.FlowTestMaxAge);
            if (problems.Count > 0)
            {
                throw RegistryRefusal.Conflict(problems);
            }

            return registry.With(
                current with { State = request.To },
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

    internal static async Task<Created<FlowTestReport>> RunFlowTestAsync(string odsCode, FlowTestRequest request, IOrganisationRegistry registry, FlowTester tester, AdminActions actions, HttpContext context)
    {
        var organisation = registry.Current.Find(odsCode) ?? throw RegistryRefusal.NotFound($"Organisation {odsCode}");
        if (organisation.State == LifecycleState.Withdrawn)
        {
            throw RegistryRefusal.Conflict([$"{organisation.OdsCode} has withdrawn; there is no flow to test."]);
        }

        var check = NhsNumber.Check(request.TestNhsNumber);
        if (!check.IsValid)
        {
            throw RegistryRefusal.Invalid([$"testNhsNumber: {check.Problem}"]);
        }

        var report = await tester.RunAsync(organisation, check.Value!, actions.Actor(context), context.RequestAborted);
        var summary = new FlowTestSummary(report.Id, report.RanAt, report.Passed, report.Summary);
        await actions.ChangeAsync(context, $"Organization/{organisation.OdsCode}", $"flow test {(report.Passed ? "passed" : "failed")}", latest =>
        {
            var current = latest.Find(odsCode) ?? throw RegistryRefusal.NotFound($"Organisation {odsCode}");
            return latest.With(
                current with { LastFlowTest = summary },
                new RegistryChange($"Organization/{current.OdsCode}", report.Passed ? "flow test passed" : "flow test failed", report.RanAt, report.RanBy, report.Summary));
        });
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
        };
    }
}
