using System.Collections.Immutable;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Identity.ApiKeys;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Airlock.Gateway.Identity;

/// <summary>
/// Establishes who is calling, from an Airlock API key or an OIDC access token, and answers
/// 401 with <c>WWW-Authenticate</c> (RFC 6750 §3) when that fails. Nothing the caller sends
/// besides the credential itself is trusted for identity.
/// </summary>
public sealed partial class IdentityMiddleware(
    RequestDelegate next,
    IdentityConfig config,
    OidcIssuers issuers,
    ILogger<IdentityMiddleware> logger)
{
    private const string Realm = "Bearer realm=\"airlock\"";

    public async Task InvokeAsync(HttpContext context)
    {
        var session = context.Features.GetRequiredFeature<SessionFeature>();
        var token = BearerToken.From(context.Request);
        if (token is null)
        {
            var detail = context.Request.Headers.Authorization.Count switch
            {
                0 => "this gateway needs a credential: send Authorization: Bearer <API key or access token>",
                1 => "only Bearer credentials are accepted",
                _ => "send exactly one Authorization header",
            };
            await ChallengeAsync(context, session, detail, invalidToken: context.Request.Headers.Authorization.Count > 0);
            return;
        }

        string scheme;
        string issuerName;
        string? groupsClaim = null;
        if (token.StartsWith(ApiKeyFormat.Prefix, StringComparison.Ordinal) && config.ApiKeys)
        {
            scheme = ApiKeyAuthenticationHandler.SchemeName;
            issuerName = "airlock";
        }
        else if (issuers.Find(token, out var failure) is { } issuer)
        {
            scheme = OidcIssuers.SchemeFor(issuer);
            issuerName = issuer.Name;
            groupsClaim = issuer.GroupsClaim;
        }
        else
        {
            await ChallengeAsync(context, session, failure!, invalidToken: true);
            return;
        }

        var result = await context.AuthenticateAsync(scheme);
        if (!result.Succeeded)
        {
            await ChallengeAsync(context, session, Describe(result.Failure), invalidToken: true);
            return;
        }

        var principal = result.Principal;
        var sub = principal.FindFirst("sub")?.Value;
        if (string.IsNullOrEmpty(sub))
        {
            await ChallengeAsync(context, session, "the token has no sub claim", invalidToken: true);
            return;
        }

        var groups = ImmutableArray.CreateBuilder<string>();
        foreach (var claim in principal.FindAll(groupsClaim ?? ApiKeyAuthenticationHandler.GroupClaim))
        {
            groups.Add(claim.Value);
        }

        // Airlock's own claims are read only from what the API key handler built: a token
        // carrying "airlock:key_name" is still a token.
        session.Identity = groupsClaim is null
            ? new CallerIdentity(sub, CallerIdentity.ApiKeyMethod, issuerName,
                principal.FindFirst(ApiKeyAuthenticationHandler.KeyNameClaim)!.Value,
                principal.FindFirst(ApiKeyAuthenticationHandler.KeyIdClaim)!.Value,
                groups.ToImmutable())
            : new CallerIdentity($"{issuerName}:{sub}", CallerIdentity.OidcMethod, issuerName, null, null, groups.ToImmutable());
        await next(context);
    }

    private async Task ChallengeAsync(HttpContext context, SessionFeature session, string detail, bool invalidToken)
    {
        Log.Rejected(logger, session.Id, detail);
        session.Error = ProblemType.Unauthenticated.Name;
        // RFC 6750 §3: error="invalid_token" when a token was presented and refused. The
        // description is the same safe sentence as the problem's detail.
        var challenge = invalidToken
            ? $"{Realm}, error=\"invalid_token\", error_description=\"{detail.Replace("\"", "'", StringComparison.Ordinal)}\""
            : Realm;
        await ProblemWriter.WriteAsync(context, ProblemType.Unauthenticated, detail, session.Id,
            headers: h => h.WWWAuthenticate = challenge);
    }

    /// <summary>Turns a validation failure into a sentence safe to show: it names what was
    /// wrong, never the token or what was expected of it.</summary>
    private static string Describe(Exception? failure) => failure switch
    {
        CredentialRejectedException rejected => rejected.Message,
        SecurityTokenExpiredException => "the token has expired",
        SecurityTokenNotYetValidException => "the token is not valid yet",
        SecurityTokenInvalidAudienceException => "the token was issued for another audience",
        SecurityTokenInvalidIssuerException => "the token's issuer is not trusted",
        SecurityTokenInvalidAlgorithmException => "the token's signing algorithm is not accepted",
        SecurityTokenInvalidTypeException => "the token's type is not accepted; an OAuth access token is required",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "the token's signature is not valid",
        SecurityTokenNoExpirationException => "the token has no expiry",
        SecurityTokenMalformedException => "the token is malformed",
        InvalidOperationException => "the token's issuer could not be reached to fetch its keys",
        _ => "the token is not valid",
    };

    private static partial class Log
    {
        [LoggerMessage(1001, LogLevel.Information, "Session {SessionId}: authentication failed: {Reason}")]
        public static partial void Rejected(ILogger logger, Guid sessionId, string reason);
    }
}
