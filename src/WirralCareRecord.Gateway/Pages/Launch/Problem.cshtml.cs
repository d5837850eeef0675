using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using WirralCareRecord.Gateway.Launch;

namespace WirralCareRecord.Gateway.Pages.Launch;

/// <summary>Why a context launch did not open a record: one clear page per reason, with the HTTP status to match.</summary>
public sealed class ProblemModel : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Reason { get; set; }

    public LaunchProblems.Text Problem { get; private set; } = LaunchProblems.Of(LaunchProblem.Expired);

    public void OnGet()
    {
        Problem = LaunchProblems.Of(Reason) ?? LaunchProblems.Of(LaunchProblem.Expired);
        Response.StatusCode = Problem.Status;
    }
}
