using Microsoft.AspNetCore.Mvc;

namespace WirralCareRecord.Gateway.Pages;

/// <summary>Lets a page handler answer with an endpoint's own result (a document download), so both serve the same bytes and headers.</summary>
internal sealed class ResultAction(IResult result) : IActionResult
{
    public Task ExecuteResultAsync(ActionContext context) => result.ExecuteAsync(context.HttpContext);
}
