using System.Diagnostics;
using System.Net;
using Airlock.Gateway.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Airlock.Gateway.Routing;

/// <summary>
/// A connection ready to forward to: its configuration, its own pooled HTTP client (so one
/// slow upstream cannot exhaust another's connections) and its forwarding settings.
/// </summary>
internal sealed class ConnectionRoute : IDisposable
{
    private static readonly UriCreationOptions ExactUri = new() { DangerousDisablePathAndQueryCanonicalization = true };

    /// <param name="traced">Whether the gateway exports traces (<c>telemetry.traces</c>).</param>
    public ConnectionRoute(ConnectionConfig config, bool traced = false)
    {
        Config = config;
        DestinationPrefix = config.Upstream.GetLeftPart(UriPartial.Path).TrimEnd('/');
        UpstreamBasePath = config.Upstream.AbsolutePath.TrimEnd('/');
        GatewayPrefix = "/" + config.Name;
        Credential = Masking.InjectedCredential.For(config.Credential);
        var sockets = new SocketsHttpHandler
        {
            // Settings YARP recommends for a forwarder: no proxy, redirects, decompression or
            // cookies of its own; the caller and the upstream see each other's messages as sent.
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            // Traced, the upstream call carries the gateway's span on in traceparent (YARP's
            // propagator replaces the agent's). Untraced, the gateway adds no trace headers:
            // ASP.NET Core starts an activity for every request anyway, and the default
            // propagator would send a traceparent for a trace nobody records. An agent's own
            // trace headers then pass unchanged, as any other header it sent.
            ActivityHeadersPropagator = traced
                ? new ReverseProxyPropagator(DistributedContextPropagator.Current)
                : DistributedContextPropagator.CreateNoOutputPropagator(),
            ConnectTimeout = config.ConnectTimeout,
            // Below the upstream's keep-alive, so the gateway, not the upstream, ends an idle
            // connection (ConnectionConfig.IdleTimeout says why and how much below).
            PooledConnectionIdleTimeout = config.IdleTimeout,
            // HTTP/1.x connections report "closed without answering" instead of an end of
            // stream, so the handler never sends a request again by itself (the stream's summary
            // says why); HTTP/2 resends only streams the upstream declared unprocessed.
            PlaintextStreamFilter = static (context, _) => ValueTask.FromResult(
                context.NegotiatedHttpVersion.Major == 1 ? new Forwarding.UpstreamConnectionStream(context.PlaintextStream) : context.PlaintextStream),
        };
        Client = new HttpMessageInvoker(new Forwarding.UpstreamAttemptHandler(sockets, config.Retries));
        RequestConfig = new ForwarderRequestConfig { ActivityTimeout = config.ResponseTimeout };
    }

    public string Name => Config.Name;

    public ConnectionConfig Config { get; }

    /// <summary>The upstream base URL without a trailing slash.</summary>
    public string DestinationPrefix { get; }

    /// <summary>The upstream base URL's path without a trailing slash: <c>""</c> or e.g. <c>/api</c>.</summary>
    public string UpstreamBasePath { get; }

    /// <summary>Where the connection starts on the proxy listener: <c>/{name}</c>.</summary>
    public string GatewayPrefix { get; }

    /// <summary>The credential the connection injects, as the values scrubbed from every
    /// response; null when it injects none.</summary>
    public Masking.InjectedCredential? Credential { get; }

    public HttpMessageInvoker Client { get; }

    public ForwarderRequestConfig RequestConfig { get; }

    /// <summary>
    /// The upstream URL for a normalised path and raw query. The path is already canonical,
    /// so <see cref="Uri"/> must not re-canonicalise it: what policy saw is what is sent. The
    /// connection alone (<c>/tickets</c>) goes to the base URL itself, and to <c>/</c> when that
    /// has no path: a request target is never empty (RFC 9112 §3.2.1).
    /// </summary>
    public Uri UpstreamUri(string upstreamPath, string? query)
    {
        var path = upstreamPath.Length == 0 && UpstreamBasePath.Length == 0 ? "/" : upstreamPath;
        return new(query is null ? DestinationPrefix + path : $"{DestinationPrefix}{path}?{query}", in ExactUri);
    }

    public void Dispose() => Client.Dispose();
}
