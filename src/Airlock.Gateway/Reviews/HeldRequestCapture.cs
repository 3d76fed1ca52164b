using System.Collections.Frozen;
using System.Collections.Immutable;
using Airlock.Gateway.Forwarding;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Airlock.Gateway.Reviews;

/// <summary>
/// Takes the exact request a review is about from the live one: the method, normalised path
/// and query, the body bytes as received, and the headers that will be forwarded. Credentials,
/// identity claims, hop-by-hop headers and headers the gateway sets itself are left out, so
/// the stored request holds no secret of the caller's, and replaying it through the same
/// forwarding path sends exactly what would have been sent.
/// </summary>
internal static class HeldRequestCapture
{
    private static readonly FrozenSet<string> NotKept = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
    [
        HeaderNames.Host, HeaderNames.ContentLength, HeaderNames.Connection, HeaderNames.KeepAlive, HeaderNames.TransferEncoding,
        HeaderNames.TE, HeaderNames.Upgrade, HeaderNames.ProxyConnection, "Trailer", HeaderNames.Expect, "Prefer",
    ]);

    public static HeldRequest From(HttpContext context, SessionFeature session, byte[] body)
    {
        var request = context.Request;
        var connectionListed = request.Headers.GetCommaSeparatedValues(HeaderNames.Connection);
        var headers = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        foreach (var (name, values) in request.Headers)
        {
            if (NotKept.Contains(name) || UntrustedHeaders.IsUntrusted(name) || connectionListed.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (var value in values)
            {
                headers.Add(new(name, value ?? ""));
            }
        }

        var connection = context.Features.GetRequiredFeature<Routing.RouteFeature>().Connection;
        return new HeldRequest(connection.Name, request.Method, session.Path, session.Query, headers.ToImmutable(), body,
            context.Connection.RemoteIpAddress?.ToString());
    }
}
