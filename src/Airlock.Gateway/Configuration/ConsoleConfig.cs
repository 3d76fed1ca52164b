using System.Collections.Immutable;

namespace Airlock.Gateway.Configuration;

/// <summary>
/// The approver's console on the admin listener (<c>console:</c>): people sign in with the
/// company's OIDC provider, see held requests, and decide them. Without this section the
/// console is off and the admin listener serves only the API, health and metrics.
/// </summary>
internal sealed record ConsoleConfig
{
    /// <summary>The <c>identity.oidc</c> issuer people sign in with: their subjects are
    /// <c>&lt;issuer name&gt;:&lt;sub&gt;</c> and their groups come from its <c>groupsClaim</c>,
    /// exactly as for their access tokens on the admin API.</summary>
    public required OidcIssuerConfig Issuer { get; init; }

    /// <summary>The console's client id at the provider.</summary>
    public required string ClientId { get; init; }

    /// <summary>The console's client secret at the provider (by reference).</summary>
    public required Secret ClientSecret { get; init; }

    /// <summary>The admin listener as people reach it (<c>https://airlock.example.com</c>): the
    /// redirect URIs given to the provider and the links in notifications are built from it,
    /// never from a bind address. No path, query or fragment.</summary>
    public required Uri PublicUrl { get; init; }

    /// <summary>How long a sign-in lasts without use; renewed while used (sliding).</summary>
    public TimeSpan Session { get; init; } = DefaultSession;

    /// <summary>An approval needs a sign-in (the ID token's <c>auth_time</c>) no older than this.</summary>
    public TimeSpan ApprovalMaxAge { get; init; } = DefaultApprovalMaxAge;

    /// <summary>The scopes asked for at sign-in; <c>openid</c> always among them.</summary>
    public ImmutableArray<string> Scopes { get; init; } = DefaultScopes;

    /// <summary>True when people reach the console over https: its cookies are then <c>Secure</c>.</summary>
    public bool IsHttps => PublicUrl.Scheme == Uri.UriSchemeHttps;

    /// <summary>The page of a review, as a link people open from a notification.</summary>
    public string ReviewLink(Guid reviewId) => $"{PublicUrl.GetLeftPart(UriPartial.Authority)}/reviews/{reviewId}";

    public static readonly TimeSpan DefaultSession = TimeSpan.FromHours(8);

    public static readonly TimeSpan DefaultApprovalMaxAge = TimeSpan.FromHours(12);

    public static readonly ImmutableArray<string> DefaultScopes = ["openid", "profile"];
}
