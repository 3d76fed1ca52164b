using System.Collections.Frozen;
using Airlock.Gateway.Configuration;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Airlock.Gateway.Identity;

/// <summary>
/// The trusted issuers, each registered as its own JwtBearer scheme. A token's unvalidated
/// <c>iss</c> only picks which scheme validates it; that scheme then checks the issuer again,
/// with the signature, so a forged <c>iss</c> gains nothing.
/// </summary>
internal sealed class OidcIssuers
{
    private readonly FrozenDictionary<string, OidcIssuerConfig> _byIssuer;

    public OidcIssuers(IdentityConfig identity)
    {
        _byIssuer = identity.Issuers.ToFrozenDictionary(i => i.Issuer, StringComparer.Ordinal);
    }

    public static string SchemeFor(OidcIssuerConfig issuer) => "oidc:" + issuer.Name;

    /// <summary>Finds the issuer a JWT claims to come from, or explains why it cannot.</summary>
    public OidcIssuerConfig? Find(string token, out string? reason, out string? failure)
    {
        reason = null;
        failure = null;
        if (token.AsSpan().Count('.') == 4)
        {
            reason = "encrypted-token";
            failure = "encrypted tokens (JWE) are not accepted; send a signed access token";
            return null;
        }

        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(token);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or System.Text.Json.JsonException or SecurityTokenException)
        {
            reason = "not-a-token";
            failure = "the bearer token is neither an Airlock API key nor a JWT";
            return null;
        }

        if (string.IsNullOrEmpty(jwt.Issuer) || !_byIssuer.TryGetValue(jwt.Issuer, out var issuer))
        {
            reason = "untrusted-issuer";
            failure = "the token's issuer is not trusted";
            return null;
        }

        // JwtBearer enforces the allow-list too, but reports a refused algorithm as a bad
        // signature; checking the header first gives the caller the true reason.
        if (!issuer.Algorithms.Contains(jwt.Alg))
        {
            reason = "algorithm-not-accepted";
            failure = "the token's signing algorithm is not accepted";
            return null;
        }

        return issuer;
    }
}
