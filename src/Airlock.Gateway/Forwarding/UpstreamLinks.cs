using Airlock.Gateway.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Airlock.Gateway.Forwarding;

/// <summary>
/// Links an upstream gives to itself in <c>Location</c> and <c>Content-Location</c> become the
/// gateway's path for them, as nginx's <c>proxy_redirect default</c> does, so an agent can follow
/// a redirect or a created resource through the gateway (and the upstream's address is not
/// handed out). Mapped, with the query and fragment kept as sent:
/// <list type="bullet">
/// <item>an absolute URL with the upstream's scheme, host and port whose path is the base path
/// or below it: <c>http://10.0.0.5:8080/api/refunds/17</c> → <c>/billing/refunds/17</c>;</item>
/// <item>a path (<c>/api/refunds/17</c>) below the base path;</item>
/// </list>
/// The result is a path on the gateway, not an absolute URL: the only name the gateway could put
/// in front of it is the caller's <c>Host</c> header, which the gateway does not trust (RFC 9110
/// §10.2.2 allows a relative <c>Location</c>). Left as they are: links elsewhere, relative
/// references (<c>refunds/17</c> resolves the same way against the gateway's URL), paths outside
/// the base path, and, on an upstream without a base path, links that already start with the
/// connection's path (an upstream that built them from <c>X-Forwarded-Prefix</c>).
/// </summary>
public static class UpstreamLinks
{
    public static bool IsLinkHeader(string name) =>
        name.Equals(HeaderNames.Location, StringComparison.OrdinalIgnoreCase) || name.Equals(HeaderNames.ContentLocation, StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether <paramref name="value"/> is <paramref name="prefix"/> or a path, query or fragment below it.</summary>
    public static bool IsGatewayPath(string value, string prefix) =>
        value.StartsWith(prefix, StringComparison.Ordinal) && (value.Length == prefix.Length || value[prefix.Length] is '/' or '?' or '#');

    /// <summary>Rewrites the response's links to the upstream into the gateway's paths.</summary>
    public static void Rewrite(IHeaderDictionary headers, ConnectionRoute route)
    {
        if (headers.Location is { Count: 1 } location && ToGateway(location.ToString(), route) is { } mapped)
        {
            headers.Location = mapped;
        }

        if (headers.ContentLocation is { Count: 1 } contentLocation && ToGateway(contentLocation.ToString(), route) is { } mappedContent)
        {
            headers.ContentLocation = mappedContent;
        }
    }

    /// <summary>The gateway's path for a link, or null when it is not a link to the upstream.</summary>
    public static string? ToGateway(string link, ConnectionRoute route)
    {
        if (link.StartsWith('/') && !link.StartsWith("//", StringComparison.Ordinal))
        {
            return Below(link, route, absolute: false);
        }

        var upstream = route.Config.Upstream;
        var absolute = link.StartsWith("//", StringComparison.Ordinal) ? upstream.Scheme + ":" + link : link;
        if (!Uri.TryCreate(absolute, UriKind.Absolute, out var uri)
            || !uri.Scheme.Equals(upstream.Scheme, StringComparison.OrdinalIgnoreCase)
            || !uri.Host.Equals(upstream.Host, StringComparison.OrdinalIgnoreCase)
            || uri.Port != upstream.Port
            || !string.IsNullOrEmpty(uri.UserInfo))
        {
            return null;
        }

        // The rest as the upstream wrote it (Uri would re-escape the path): from the end of the
        // authority, the first '/', '?' or '#' after "scheme://".
        var authorityStart = absolute.IndexOf("//", StringComparison.Ordinal) + 2;
        var restStart = absolute.IndexOfAny(['/', '?', '#'], authorityStart);
        return Below(restStart < 0 ? "" : absolute[restStart..], route, absolute: true);
    }

    /// <summary>The gateway's path for the upstream's path-and-query <paramref name="rest"/>
    /// (empty, or starting with '/', '?' or '#'), when it is under the base path.</summary>
    private static string? Below(string rest, ConnectionRoute route, bool absolute)
    {
        var basePath = route.UpstreamBasePath;
        if (basePath.Length == 0)
        {
            // Already the gateway's path: an absolute one loses only the upstream's address.
            return !IsGatewayPath(rest, route.GatewayPrefix) ? route.GatewayPrefix + rest : absolute ? rest : null;
        }

        return IsGatewayPath(rest, basePath) ? route.GatewayPrefix + rest[basePath.Length..] : null;
    }
}
