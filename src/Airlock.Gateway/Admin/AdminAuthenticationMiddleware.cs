using Airlock.Gateway.Configuration;
using Airlock.Gateway.Identity;
using Microsoft.AspNetCore.Http;

namespace Airlock.Gateway.Admin;

/// <summary>
/// Authenticates every <c>/api</c> request on the admin listener. The admin API is for
/// people: OIDC access tokens only, never agent API keys. Roles come from the token's groups
/// (<c>admin.adminGroups</c>, <c>admin.auditorGroups</c>).
/// </summary>
public sealed class AdminAuthenticationMiddleware(RequestDelegate next, CallerAuthenticator authenticator, AirlockConfig config)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var authentication = await authenticator.AuthenticateAsync(context, allowApiKeys: false);
        if (authentication.Identity is not { } identity)
        {
            await CallerAuthenticator.ChallengeAsync(context, authentication, null);
            return;
        }

        var roles = AdminRoles.None;
        if (identity.Groups.Any(config.Admin.AdminGroups.Contains))
        {
            roles |= AdminRoles.Admin;
        }

        if (identity.Groups.Any(config.Admin.AuditorGroups.Contains))
        {
            roles |= AdminRoles.Auditor;
        }

        context.Features.Set(new AdminCaller(identity, roles));
        await next(context);
    }
}
