using System.Collections.Immutable;

namespace Airlock.Gateway.Identity;

/// <summary>
/// Who made a request, as the gateway established it. Nothing in it comes from a header the
/// caller could set: it is built only from a validated token or a verified API key.
/// </summary>
/// <param name="Subject">The stable identity: the token's <c>sub</c>, or <c>key:&lt;name&gt;</c>
/// for an API key, so that a key can never pass for a person of the same name.</param>
/// <param name="AuthMethod"><c>oidc</c> or <c>apikey</c>.</param>
/// <param name="Issuer">The configured issuer's name, or <c>airlock</c> for API keys.</param>
/// <param name="KeyName">The API key's name, for keys only.</param>
/// <param name="Groups">The groups the caller belongs to.</param>
public sealed record CallerIdentity(
    string Subject,
    string AuthMethod,
    string Issuer,
    string? KeyName,
    ImmutableArray<string> Groups)
{
    public const string OidcMethod = "oidc";
    public const string ApiKeyMethod = "apikey";
}
