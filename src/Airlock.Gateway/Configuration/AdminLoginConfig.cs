using System.Collections.Immutable;

namespace Airlock.Gateway.Configuration;

/// <summary>
/// What <c>airlock login</c> needs to sign a person in at a terminal (<c>admin.login</c>): the
/// issuer people sign in with and the public client registered there for the OAuth device
/// authorization grant (RFC 8628). The admin listener publishes it, unauthenticated, at
/// <c>/.well-known/airlock-login</c>; none of it is a secret.
/// </summary>
/// <param name="IssuerName">The <c>identity.oidc</c> issuer's name.</param>
/// <param name="Issuer">That issuer's URL: discovery is read from it.</param>
/// <param name="ClientId">The public client (no secret) the CLI uses at the provider.</param>
/// <param name="Scopes">Scopes the CLI asks for; <c>offline_access</c> gets a refresh token.</param>
/// <param name="Resource">Sent as the RFC 8707 <c>resource</c> parameter when set, for providers
/// that choose the access token's audience by it.</param>
internal sealed record AdminLoginConfig(string IssuerName, string Issuer, string ClientId, ImmutableArray<string> Scopes, string? Resource)
{
    public static ImmutableArray<string> DefaultScopes { get; } = ["openid", "offline_access"];
}
