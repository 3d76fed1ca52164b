using System.Collections.Immutable;

namespace Airlock.Gateway.Configuration;

/// <summary>How callers prove who they are: Airlock API keys, OIDC access tokens, or both.</summary>
internal sealed record IdentityConfig(bool ApiKeys, ImmutableArray<OidcIssuerConfig> Issuers);

/// <summary>
/// One trusted OIDC issuer whose JWT access tokens the gateway accepts. Keys come from the
/// issuer's discovery document and JWKS; everything else a token must satisfy is here.
/// </summary>
internal sealed record OidcIssuerConfig
{
    /// <summary>A short name used in logs, sessions and the audit trail.</summary>
    public required string Name { get; init; }

    /// <summary>The issuer identifier, exactly as it appears in the tokens' <c>iss</c> claim.</summary>
    public required string Issuer { get; init; }

    public required ImmutableArray<string> Audiences { get; init; }

    /// <summary>The claim whose values are the caller's groups.</summary>
    public required string GroupsClaim { get; init; }

    /// <summary>Signature algorithms accepted; anything else, <c>none</c> included, is refused.</summary>
    public required ImmutableArray<string> Algorithms { get; init; }

    /// <summary>Accepted JOSE <c>typ</c> header values (RFC 9068 access tokens are <c>at+jwt</c>).</summary>
    public required ImmutableArray<string> TokenTypes { get; init; }

    public required TimeSpan ClockSkew { get; init; }

    /// <summary>
    /// Allows an <c>http://</c> issuer (discovery and JWKS fetched without TLS). Only for local
    /// development and tests; the gateway warns at start when it is set.
    /// </summary>
    public required bool AllowHttp { get; init; }
}
