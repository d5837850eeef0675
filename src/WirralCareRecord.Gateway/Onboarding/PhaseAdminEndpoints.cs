using Microsoft.AspNetCore.Http.HttpResults;

namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>Defines or changes a phase: its name, and whether it is open for promotions or held.</summary>
public sealed record PhaseRequest(string Name, PhaseStatus Status, string Reason);

/// <summary>A phase with how many of its organisations are in each lifecycle state.</summary>
public sealed record PhaseView(int Number, string Name, PhaseStatus? Status, int Organisations, IReadOnlyDictionary<LifecycleState, int> States);

/// <summary>The roll-out phases: where each stands, and opening or holding them.</summary>
internal static class PhaseAdminEndpoints
{
    public static RouteGroupBuilder MapPhaseAdmin(this RouteGroupBuilder admin)
    {
        var phases = admin.MapGroup("/phases").WithTags("Phases");
        phases.MapGet("/", List).WithSummary("Every phase with its organisations counted by state");
        phases.MapPut("/{number:int}", PutAsync).WithSummary("Define a phase, or open or hold it");
        return admin;
    }

    private static Ok<List<PhaseView>> List(IOrganisationRegistry registry)
    {
        var snapshot = registry.Current;

        // Phases organisations sit in but nobody defined still show, so nothing in the registry is invisible here.
        var numbers = snapshot.Phases.Select(p => p.Number).Union(snapshot.Organisations.Select(o => o.Phase)).Order();
        return TypedResults.Ok(numbers.Select(number =>
        {
            var members = snapshot.Organisations.Where(o => o.Phase == number).ToList();
            var phase = snapshot.FindPhase(number);
            return new PhaseView(
                number,
                phase?.Name ?? $"Phase {number} (not defined)",
                phase?.Status,
                members.Count,
                Enum.GetValues<LifecycleState>().ToDictionary(state => state, state => members.Count(o => o.State == state)));
        }).ToList());
    }

    private static async Task<Ok<Phase>> PutAsync(int number, PhaseRequest request, AdminActions actions, HttpContext context)
    {
        var updated = await actions.ChangeAsync(context, $"Phase/{number}", $"phase {number} {request.Status}", registry =>
        {
            var problems = new List<string>();
            if (number < 1)
            {
                problems.Add("Phases are numbered from 1.");
            }

            if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 200)
            {
                problems.Add("name is required (at most 200 characters).");
            }

            if (request.Reason is null || request.Reason.Trim().Length is < 5 or > 1000)
            {
                problems.Add("Give a reason (5 to 1000 characters); it is kept in the history.");
            }

            if (problems.Count > 0)
            {
                throw RegistryRefusal.Invalid(problems);
            }

            var phase = new Phase(number, request.Name.Trim(), request.Status);
            return registry with
            {
                Phases = [.. registry.Phases.Where(p => p.Number != number), phase],
                History = [.. registry.History, new RegistryChange($"Phase/{number}", request.Status == PhaseStatus.Held ? "held" : "opened", actions.Now, actions.Actor(context), request.Reason!.Trim())],
            };
        });
        return TypedResults.Ok(updated.FindPhase(number)!);
    }
}
