namespace Airlock.Gateway.Routing;

/// <summary>
/// The connection a request is for and the path it goes upstream with, set by
/// <see cref="RoutingMiddleware"/> (as YARP's <c>IReverseProxyFeature</c> carries the route).
/// A held request executed later is routed by <see cref="TryResolve"/> too, so both read
/// <c>/{connection}/{rest}</c> the same way.
/// </summary>
internal sealed class RouteFeature(ConnectionRoute connection, string upstreamPath)
{
    public ConnectionRoute Connection { get; } = connection;

    /// <summary>The path sent upstream: the normalised path without the connection segment
    /// (empty for <c>/{connection}</c> alone).</summary>
    public string UpstreamPath { get; } = upstreamPath;

    /// <summary>Routes a normalised path (it starts with <c>/</c>): its first segment names the
    /// connection, the rest goes upstream. False when that names no configured connection.</summary>
    public static bool TryResolve(ConnectionCatalog connections, string path, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RouteFeature? feature)
    {
        var segments = path.AsSpan(1);
        var slash = segments.IndexOf('/');
        var name = slash < 0 ? segments : segments[..slash];
        if (name.IsEmpty || !connections.TryGet(name, out var route))
        {
            feature = null;
            return false;
        }

        feature = new RouteFeature(route, slash < 0 ? "" : path[(slash + 1)..]);
        return true;
    }
}
