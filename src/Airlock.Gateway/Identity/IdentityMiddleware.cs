using Airlock.Gateway.Audit;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Airlock.Gateway.Identity;

/// <summary>
/// Establishes who is calling, from an Airlock API key or an OIDC access token, and answers
/// 401 with <c>WWW-Authenticate</c> (RFC 6750 §3) when that fails. Nothing the caller sends
/// besides the credential itself is trusted for identity. Refusals are counted for the audit
/// trail (<see cref="RefusalTally"/>): whoever sends them is unknown, and may send millions.
/// </summary>
internal sealed partial class IdentityMiddleware(RequestDelegate next, CallerAuthenticator authenticator, RefusalTally refusals, ILogger<IdentityMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var session = context.Features.GetRequiredFeature<SessionFeature>();
        var authentication = await authenticator.AuthenticateAsync(context, allowApiKeys: true);
        if (authentication.Identity is null)
        {
            Log.Rejected(logger, session.Id, authentication.Failure!);
            session.Error = ProblemType.Unauthenticated.Name;
            refusals.Count(context, session, ProblemType.Unauthenticated, authentication.Reason!, subject: authentication.RevokedSubject);
            await CallerAuthenticator.ChallengeAsync(context, authentication, session.Id);
            return;
        }

        context.Features.Set(new CallerFeature(authentication.Identity));
        await next(context);
    }

    private static partial class Log
    {
        [LoggerMessage(1001, LogLevel.Information, "Session {SessionId}: authentication failed: {Reason}")]
        public static partial void Rejected(ILogger logger, Guid sessionId, string reason);
    }
}
