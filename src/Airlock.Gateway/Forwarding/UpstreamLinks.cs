using System.Text;
using Airlock.Gateway.Normalization;
using Airlock.Gateway.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Airlock.Gateway.Forwarding;

/// <summary>
/// Links an upstream gives to itself in <c>Location</c>, <c>Content-Location</c> and the targets
/// of <c>Link</c> (RFC 8288: pagination's <c>rel="next"</c>) become the gateway's path for them,
/// as nginx's <c>proxy_redirect default</c> does, so an agent can follow a redirect, a created
/// resource or the next page through the gateway (and the upstream's address is not handed
/// out). Mapped, with the query and fragment kept as sent:
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
/// <para>
/// A link is mapped only when its gateway path is canonical (<see cref="RequestTargetNormalizer"/>
/// leaves it as it is) and stays under <c>/&lt;connection&gt;</c>: the agent's client resolves dot
/// segments before it sends, so <c>/api/../../admin</c> mapped to <c>/billing/../../admin</c>
/// would be a link from this connection to another one, written by the gateway. Such a link is
/// left as the upstream wrote it, and masked as any other header.
/// </para>
/// </summary>
internal static class UpstreamLinks
{
    /// <summary>Headers whose whole value is one link (<c>Link</c> holds several, inside its own syntax).</summary>
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

        if (headers.Link is { Count: > 0 } links)
        {
            string?[]? rewritten = null;
            for (var i = 0; i < links.Count; i++)
            {
                if (links[i] is { } value && RewriteLinkTargets(value, route) is { } mappedLinks)
                {
                    rewritten ??= links.ToArray();
                    rewritten[i] = mappedLinks;
                }
            }

            if (rewritten is not null)
            {
                headers.Link = new StringValues(rewritten);
            }
        }
    }

    /// <summary>
    /// A <c>Link</c> value with each target that is a link to the upstream made the gateway's
    /// path, or null when none is (or the value is not a list of links: then it is left whole).
    /// RFC 8288 §3: <c>link-value = "&lt;" URI-Reference "&gt;" *( OWS ";" OWS link-param )</c>,
    /// comma-separated; a parameter's quoted string may hold ',', ';', '&lt;' and '&gt;', so
    /// parameters are skipped as tokens and quoted strings, and only the targets are read.
    /// </summary>
    public static string? RewriteLinkTargets(string value, ConnectionRoute route)
    {
        StringBuilder? rewritten = null;
        var copied = 0;
        var at = 0;
        while (true)
        {
            // Empty list elements and whitespace before a link-value (RFC 9110 §5.6.1).
            while (at < value.Length && value[at] is ' ' or '\t' or ',')
            {
                at++;
            }

            if (at == value.Length)
            {
                break;
            }

            var close = value[at] == '<' ? value.IndexOf('>', at + 1) : -1;
            if (close < 0)
            {
                return null;
            }

            if (ToGateway(value[(at + 1)..close], route) is { } mapped)
            {
                rewritten ??= new StringBuilder(value.Length);
                rewritten.Append(value, copied, at + 1 - copied).Append(mapped);
                copied = close;
            }

            // The parameters, up to the comma that ends this link-value.
            var quoted = false;
            for (at = close + 1; at < value.Length && (quoted || value[at] != ','); at++)
            {
                if (quoted && value[at] == '\\')
                {
                    at++;
                }
                else if (value[at] == '"')
                {
                    quoted = !quoted;
                }
            }

            if (quoted)
            {
                return null;
            }
        }

        return rewritten?.Append(value, copied, value.Length - copied).ToString();
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
        string? mapped;
        if (basePath.Length == 0)
        {
            // Already the gateway's path: an absolute one loses only the upstream's address.
            mapped = !IsGatewayPath(rest, route.GatewayPrefix) ? route.GatewayPrefix + rest : absolute ? rest : null;
        }
        else
        {
            mapped = IsGatewayPath(rest, basePath) ? route.GatewayPrefix + rest[basePath.Length..] : null;
        }

        return mapped is not null && StaysOnConnection(mapped, route) ? mapped : null;
    }

    /// <summary>Whether the gateway path <paramref name="link"/> is in the one canonical form the
    /// gateway gives a request target (no dot segments, escaped dots, empty segments, escaped
    /// separators) and under the connection: what the agent's client sends for it is then the
    /// link as written, on this connection.</summary>
    private static bool StaysOnConnection(string link, ConnectionRoute route)
    {
        var pathEnd = link.AsSpan().IndexOfAny('?', '#');
        var path = pathEnd < 0 ? link : link[..pathEnd];
        return RequestTargetNormalizer.Normalize(path, out var target) == NormalizationError.None
            && string.Equals(target.Path, path, StringComparison.Ordinal)
            && IsGatewayPath(path, route.GatewayPrefix);
    }
}
