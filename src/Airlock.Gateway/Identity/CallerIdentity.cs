using System.Collections.Immutable;

namespace Airlock.Gateway.Identity;

/// <summary>
/// Who made a request, as the gateway established it. Nothing in it comes from a header the
/// caller could set: it is built only from a validated token or a verified API key.
/// </summary>
/// <param name="Subject">The stable identity, namespaced so that no two kinds of credential can
/// meet: <c>&lt;issuer&gt;:&lt;sub&gt;</c> for an OIDC token (<c>corp:alice</c>), and
/// <c>key:&lt;name&gt;</c> for an API key.</param>
/// <param name="AuthMethod"><c>oidc</c> or <c>apikey</c>.</param>
/// <param name="Issuer">The configured issuer's name, or <c>airlock</c> for API keys.</param>
/// <param name="KeyName">The API key's name, for keys only.</param>
/// <param name="KeyId">The API key's public id, for keys only: it tells apart two keys that
/// held the same name at different times.</param>
/// <param name="Groups">The groups the caller belongs to.</param>
// Public: a console page model shows it (Razor components and their [Parameter]s are public).
public sealed record CallerIdentity(
    string Subject,
    string AuthMethod,
    string Issuer,
    string? KeyName,
    string? KeyId,
    ImmutableArray<string> Groups)
{
    /// <summary>For an API key created with an owner: the person answerable for it
    /// (<c>corp:alice</c>). That person can never approve the key's requests.</summary>
    public string? Owner { get; init; }

    /// <summary>
    /// Whether two identities are the same caller: the same subject and, for API keys, the same
    /// key. A key revoked and created again under its old name has the old subject
    /// (<c>key:&lt;name&gt;</c>) but a new id; it must not inherit the old key's reviews or grants.
    /// </summary>
    public bool IsSameCaller(CallerIdentity other) =>
        Subject == other.Subject && string.Equals(KeyId, other.KeyId, StringComparison.Ordinal);

    public const string OidcMethod = "oidc";
    public const string ApiKeyMethod = "apikey";
}
