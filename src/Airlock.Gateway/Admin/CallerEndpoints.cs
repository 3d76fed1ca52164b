using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace Airlock.Gateway.Admin;

/// <summary>Who the admin API takes a person for.</summary>
internal sealed record CallerInfo(string Subject, string Issuer, IReadOnlyList<string> Groups, IReadOnlyList<string> Roles);

/// <summary>
/// <c>GET /api/me</c>: the subject, issuer, groups and admin roles the gateway read from the
/// caller's token, for any authenticated person. <c>airlock login</c> calls it to check that
/// the token the provider issued is one the admin API accepts, and to say who signed in.
/// </summary>
internal static class CallerEndpoints
{
    public static IEndpointRouteBuilder MapCallerApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/me", (HttpContext context) =>
        {
            var caller = context.Features.GetRequiredFeature<AdminCaller>();
            var roles = new List<string>(2);
            if (caller.Has(AdminRoles.Admin))
            {
                roles.Add("admin");
            }

            if (caller.Has(AdminRoles.Auditor))
            {
                roles.Add("auditor");
            }

            return Results.Json(new CallerInfo(caller.Identity.Subject, caller.Identity.Issuer, caller.Identity.Groups, roles), LoginJsonContext.Default.CallerInfo);
        });
        return endpoints;
    }
}
