using System.Collections.Frozen;
using Airlock.Gateway.Configuration;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Airlock.Gateway.Identity;

/// <summary>
/// The trusted issuers, each registered as its own JwtBearer scheme. A token's unvalidated
/// <c>iss</c> only picks which scheme validates it; that scheme then checks the issuer again,
/// with the signature, so a forged <c>iss</c> gains nothing.
/// </summary>
public sealed class OidcIssuers
{
    private readonly FrozenDictionary<string, OidcIssuerConfig> _byIssuer;

    public OidcIssuers(IdentityConfig identity)
    {
        _byIssuer = identity.Issuers.ToFrozenDictionary(i => i.Issuer, StringComparer.Ordinal);
    }

    public static string SchemeFor(OidcIssuerConfig issuer) => "oidc:" + issuer.Name;

    /// <summary>Finds the issuer a JWT claims to come from, or explains why it cannot.</summary>
    public OidcIssuerConfig? Find(string token, out string? failure)
    {
        failure = null;
        string? iss;
        try
        {
            iss = new JsonWebToken(token).Issuer;
        }
        catch (ArgumentException)
        {
            failure = "the bearer token is neither an Airlock API key nor a JWT";
            return null;
        }

        if (string.IsNullOrEmpty(iss) || !_byIssuer.TryGetValue(iss, out var issuer))
        {
            failure = "the token's issuer is not trusted";
            return null;
        }

        return issuer;
    }
}
