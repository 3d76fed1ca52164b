using Airlock.Gateway.Audit;
using Airlock.Gateway.Console.Pages;
using Airlock.Gateway.Reviews;
using Airlock.Gateway.Storage;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;

namespace Airlock.Gateway.Console;

internal static partial class ConsoleEndpoints
{
    /// <summary>The grants in force this person may see (as <c>GET /api/grants</c> shows them), ending soonest first.</summary>
    private static async Task<IResult> GrantsAsync(HttpContext context, IReviewStore store, TimeProvider time, string? notice) =>
        await GrantsPageAsync(context, store, time, notice == "revoked" ? new Notice("ok", "Revoked. Its requester's next request under that rule is held for review again.") : null);

    private static async Task<IResult> GrantsPageAsync(HttpContext context, IReviewStore store, TimeProvider time, Notice? notice, int status = StatusCodes.Status200OK)
    {
        var caller = Caller(context);
        var grants = (await store.ListGrantsAsync(activeOnly: true, time.GetUtcNow(), context.RequestAborted))
            .Where(g => GrantRevocation.MaySee(caller, g))
            .OrderBy(g => g.ExpiresAt)
            .Select(g => (g, GrantRevocation.MayRevoke(caller, g)))
            .ToList();
        return ConsolePages.Page<GrantsPage>(new { Model = new GrantsModel(ConsolePages.Frame(context), grants, notice) }, status);
    }

    /// <summary>Revokes a grant from the page's form (antiforgery), as <c>POST /api/grants/{id}/revoke</c> does.</summary>
    private static async Task<IResult> RevokeGrantAsync(HttpContext context, Guid id, IReviewStore store, TimeProvider time, AuditTrail audit, IAntiforgery antiforgery)
    {
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return ConsolePages.Message(context, StatusCodes.Status400BadRequest, "Not revoked",
                ["The form did not come from this console page, or it is too old. Nothing was revoked: open the grants again and revoke there."], "/grants", "Grants");
        }

        var (outcome, _) = await GrantRevocation.RevokeAsync(Caller(context), id, store, time, audit, context.RequestAborted);
        return outcome switch
        {
            GrantRevocation.Outcome.Revoked => Results.Redirect("/grants?notice=revoked"),
            GrantRevocation.Outcome.AlreadyEnded => await GrantsPageAsync(context, store, time,
                new Notice("error", "Not revoked: that grant had already ended or been revoked."), StatusCodes.Status409Conflict),
            _ => ConsolePages.Message(context, StatusCodes.Status404NotFound, "No such grant",
                ["There is no such grant, or it is not one you may revoke (admins, and the approvers who granted it)."], "/grants", "Grants"),
        };
    }
}
