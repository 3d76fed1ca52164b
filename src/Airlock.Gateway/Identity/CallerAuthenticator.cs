using System.Collections.Immutable;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Identity.ApiKeys;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.Tokens;

namespace Airlock.Gateway.Identity;

/// <summary>Who a request comes from, or why that could not be established.</summary>
/// <param name="InvalidToken">True when a credential was presented and refused (RFC 6750 <c>invalid_token</c>).</param>
internal readonly record struct Authentication(CallerIdentity? Identity, string? Failure, bool InvalidToken)
{
    /// <summary>Why it failed, as a stable short name for the audit trail (docs/audit.md lists
    /// them): <c>no-credential</c>, <c>unknown-key</c>, <c>revoked-key</c>, <c>expired-token</c>, …</summary>
    public string? Reason { get; init; }

    /// <summary>The key's subject (<c>key:&lt;name&gt;</c>) when a revoked key was presented with
    /// its right secret: the holder proved who they were, so the trail can name the key.</summary>
    public string? RevokedSubject { get; init; }

    public static Authentication Fail(string reason, string failure, bool invalidToken = true) => new(null, failure, invalidToken) { Reason = reason };
}

/// <summary>
/// Turns the one credential a request carries (<c>Authorization: Bearer …</c>) into a
/// <see cref="CallerIdentity"/>, through ASP.NET authentication: the API key scheme, or the
/// JwtBearer scheme of the token's issuer. Used by the proxy (agents, API keys or tokens) and
/// by the admin API (people, tokens only).
/// </summary>
internal sealed class CallerAuthenticator(IdentityConfig config, OidcIssuers issuers)
{
    private const string Realm = "Bearer realm=\"airlock\"";

    // What each listener accepts, said when a request brings no credential: agents use the
    // proxy with an API key or a token, people use the admin API with a token only.
    private readonly string _proxyNeeds = "this gateway needs a credential: send Authorization: Bearer " + (config.ApiKeys, config.Issuers.IsEmpty) switch
    {
        (true, true) => "<API key>",
        (false, false) => "<access token>",
        _ => "<API key or access token>",
    };

    private readonly string _adminNeeds = config.Issuers.IsEmpty
        ? "the admin API is for people with an OIDC access token, and no OIDC issuer is configured (identity.oidc)"
        : $"the admin API is for people: send Authorization: Bearer <access token> from {(config.Issuers.Length == 1 ? "" : "one of ")}"
          + string.Join(", ", config.Issuers.Select(i => i.Issuer)) + " (API keys are for agents, on the proxy listener)";

    public async Task<Authentication> AuthenticateAsync(HttpContext context, bool allowApiKeys)
    {
        var token = BearerToken.From(context.Request);
        if (token is null)
        {
            return context.Request.Headers.Authorization.Count switch
            {
                0 => Authentication.Fail("no-credential", allowApiKeys ? _proxyNeeds : _adminNeeds, invalidToken: false),
                1 => Authentication.Fail("not-bearer", "only Bearer credentials are accepted"),
                _ => Authentication.Fail("several-credentials", "send exactly one Authorization header"),
            };
        }

        string scheme;
        string issuerName;
        string? groupsClaim = null;
        if (token.StartsWith(ApiKeyFormat.Prefix, StringComparison.Ordinal))
        {
            if (!config.ApiKeys || !allowApiKeys)
            {
                return Authentication.Fail("api-key-not-accepted", allowApiKeys ? "API keys are not accepted by this gateway" : "API keys are for agents, on the proxy listener; the admin API needs a person's OIDC access token");
            }

            scheme = ApiKeyAuthenticationHandler.SchemeName;
            issuerName = "airlock";
        }
        else if (issuers.Find(token, out var reason, out var failure) is { } issuer)
        {
            scheme = OidcIssuers.SchemeFor(issuer);
            issuerName = issuer.Name;
            groupsClaim = issuer.GroupsClaim;
        }
        else
        {
            return Authentication.Fail(reason!, failure!);
        }

        var result = await context.AuthenticateAsync(scheme);
        if (!result.Succeeded)
        {
            var (code, sentence) = Describe(result.Failure);
            return Authentication.Fail(code, sentence) with { RevokedSubject = (result.Failure as CredentialRejectedException)?.RevokedSubject };
        }

        var principal = result.Principal;
        var sub = principal.FindFirst("sub")?.Value;
        if (string.IsNullOrEmpty(sub))
        {
            return Authentication.Fail("no-subject", "the token has no sub claim");
        }

        var groups = ImmutableArray.CreateBuilder<string>();
        foreach (var claim in principal.FindAll(groupsClaim ?? ApiKeyAuthenticationHandler.GroupClaim))
        {
            groups.Add(claim.Value);
        }

        // Airlock's own claims are read only from what the API key handler built: a token
        // carrying "airlock:key_name" is still a token.
        var identity = groupsClaim is null
            ? new CallerIdentity(sub, CallerIdentity.ApiKeyMethod, issuerName,
                principal.FindFirst(ApiKeyAuthenticationHandler.KeyNameClaim)!.Value,
                principal.FindFirst(ApiKeyAuthenticationHandler.KeyIdClaim)!.Value,
                groups.ToImmutable())
            {
                Owner = principal.FindFirst(ApiKeyAuthenticationHandler.OwnerClaim)?.Value,
            }
            : new CallerIdentity($"{issuerName}:{sub}", CallerIdentity.OidcMethod, issuerName, null, null, groups.ToImmutable());
        return new Authentication(identity, null, false);
    }

    /// <summary>Answers 401 with the RFC 6750 challenge and a problem body.</summary>
    public static Task ChallengeAsync(HttpContext context, Authentication failed, Guid? sessionId)
    {
        var detail = failed.Failure!;
        // RFC 6750 §3: error="invalid_token" when a token was presented and refused. The
        // description is the same safe sentence as the problem's detail.
        var challenge = failed.InvalidToken
            ? $"{Realm}, error=\"invalid_token\", error_description=\"{detail.Replace("\"", "'", StringComparison.Ordinal)}\""
            : Realm;
        return ProblemWriter.WriteAsync(context, ProblemType.Unauthenticated, detail, sessionId, headers: h => h.WWWAuthenticate = challenge);
    }

    /// <summary>Turns a validation failure into a reason code and a sentence safe to show: they
    /// name what was wrong, never the token or what was expected of it.</summary>
    private static (string Reason, string Sentence) Describe(Exception? failure) => failure switch
    {
        CredentialRejectedException rejected => (rejected.Reason, rejected.Message),
        SecurityTokenExpiredException => ("expired-token", "the token has expired"),
        SecurityTokenNotYetValidException => ("token-not-yet-valid", "the token is not valid yet"),
        SecurityTokenInvalidAudienceException => ("wrong-audience", "the token was issued for another audience"),
        SecurityTokenInvalidIssuerException => ("untrusted-issuer", "the token's issuer is not trusted"),
        SecurityTokenInvalidAlgorithmException => ("algorithm-not-accepted", "the token's signing algorithm is not accepted"),
        SecurityTokenInvalidTypeException => ("wrong-token-type", "the token's type is not accepted; an OAuth access token is required"),
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => ("bad-signature", "the token's signature is not valid"),
        SecurityTokenNoExpirationException => ("no-expiry", "the token has no expiry"),
        SecurityTokenMalformedException => ("malformed-token", "the token is malformed"),
        InvalidOperationException => ("issuer-unreachable", "the token's issuer could not be reached to fetch its keys"),
        _ => ("invalid-token", "the token is not valid"),
    };
}
