using System.Collections.Immutable;

namespace Airlock.Gateway.Configuration;

/// <summary>How held requests and their notifications behave.</summary>
/// <param name="MaxResultBytes">The most of an executed review's response body kept for
/// <c>GET /api/reviews/{id}/result</c>; longer bodies are kept cut, and marked so.</param>
/// <param name="LinkBase">The base URL people open reviews at (links in notifications), or null
/// to use the admin listener's address.</param>
internal sealed record ReviewsConfig(long MaxResultBytes, Uri? LinkBase, ImmutableArray<WebhookConfig> Webhooks)
{
    public static ReviewsConfig Default { get; } = new(1L << 20, null, []);
}

/// <summary>One webhook that hears about reviews.</summary>
/// <param name="Url">The endpoint. A secret: an incoming-webhook URL is itself a credential.</param>
/// <param name="Format"><c>json</c> (signed with HMAC-SHA256) or <c>slack</c> (Slack's incoming-webhook format).</param>
/// <param name="SigningSecret">For <c>json</c>: the key of the HMAC signature.</param>
/// <param name="Events">Which events it receives.</param>
internal sealed record WebhookConfig(string Name, Secret Url, string Format, Secret? SigningSecret, ImmutableHashSet<string> Events);
