using Airlock.Gateway.Configuration;
using Airlock.Gateway.Identity;
using Microsoft.AspNetCore.Http;

namespace Airlock.Gateway.Admin;

/// <summary>
/// Authenticates every <c>/api</c> request on the admin listener. The admin API is for
/// people: OIDC access tokens only, never agent API keys. Roles come from the token's groups
/// (<c>admin.adminGroups</c>, <c>admin.auditorGroups</c>).
/// </summary>
internal sealed class AdminAuthenticationMiddleware(RequestDelegate next, CallerAuthenticator authenticator, AirlockConfig config)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var authentication = await authenticator.AuthenticateAsync(context, allowApiKeys: false);
        if (authentication.Identity is not { } identity)
        {
            await CallerAuthenticator.ChallengeAsync(context, authentication, null);
            return;
        }

        context.Features.Set(AdminCaller.For(identity, config.Admin));
        await next(context);
    }
}
