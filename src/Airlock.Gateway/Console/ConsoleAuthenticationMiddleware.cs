using Airlock.Gateway.Admin;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Policy;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;

namespace Airlock.Gateway.Console;

/// <summary>
/// Who is using a console page. The session cookie names a person; roles come from their groups
/// exactly as for a bearer token on the admin API (<see cref="AdminCaller.For"/>).
/// <list type="bullet">
/// <item>No session: a page asked for by GET sends the person to sign in and back to that page
/// (a link from chat lands on its review); a decision sent after the session ended goes to sign
/// in and back to its review; fragments and live events answer 401 (the page reloads).</item>
/// <item>Signed in, but neither an approver of any rule, an auditor nor an admin: a 403 page that
/// says so (not a sign-in loop).</item>
/// </list>
/// </summary>
internal sealed class ConsoleAuthenticationMiddleware(RequestDelegate next, AirlockConfig config, PolicyProvider policies)
{
    private readonly string _issuer = config.Console!.Issuer.Name;

    public async Task InvokeAsync(HttpContext context)
    {
        var result = await context.AuthenticateAsync(ConsoleSchemes.Cookie);
        var person = result.Succeeded ? ConsolePerson.From(result.Principal, _issuer) : null;
        var request = context.Request;
        if (person is null)
        {
            await SignedOutAsync(context, request);
            return;
        }

        context.User = result.Principal!;
        var caller = AdminCaller.For(person.Identity, config.Admin);
        context.Features.Set(person);
        context.Features.Set(caller);
        if (!caller.Has(AdminRoles.Admin | AdminRoles.Auditor) && !IsApprover(person) && !request.Path.StartsWithSegments("/signout"))
        {
            await ConsolePages.Message(context, StatusCodes.Status403Forbidden, "No access to the console",
                [
                    $"You are signed in as {person.Identity.Subject} (groups: {(person.Identity.Groups.IsEmpty ? "none" : string.Join(", ", person.Identity.Groups))}).",
                    "The console is for the people who approve held requests (the approver groups of the policy's review rules), auditors and admins, and your groups make you none of these.",
                    "If you should decide reviews, ask your Airlock administrator to add you to an approver group, then sign out and in again.",
                ]).ExecuteAsync(context);
            return;
        }

        await next(context);
    }

    private bool IsApprover(ConsolePerson person)
    {
        foreach (var rule in policies.Current.Rules)
        {
            if (rule.Review is { } review && review.Approvers.Any(person.Identity.Groups.Contains))
            {
                return true;
            }
        }

        return false;
    }

    private static async Task SignedOutAsync(HttpContext context, HttpRequest request)
    {
        var path = request.Path;
        if (path.StartsWithSegments("/signout"))
        {
            context.Response.Redirect("/signed-out");
            return;
        }

        var isRead = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method);
        if (isRead && (path.StartsWithSegments("/fragments") || path.StartsWithSegments("/events")))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        // A page: sign in, then back to it. A decision whose session ended: back to its review
        // (the decision itself is not replayed; the person decides again, signed in).
        var back = isRead ? path + request.QueryString : ReviewOf(path);
        await context.ChallengeAsync(ConsoleSchemes.Oidc, new AuthenticationProperties { RedirectUri = ConsolePaths.LocalReturn(back) });
    }

    /// <summary><c>/reviews/{id}</c> for anything under it; else the inbox.</summary>
    private static string ReviewOf(PathString path)
    {
        var segments = (path.Value ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        return segments.Length >= 2 && segments[0] == "reviews" && Guid.TryParse(segments[1], out var id) ? $"/reviews/{id}" : "/";
    }
}
