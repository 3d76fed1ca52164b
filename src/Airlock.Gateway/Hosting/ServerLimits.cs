using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Airlock.Gateway.Hosting;

/// <summary>
/// Kestrel's limits, set on purpose rather than inherited, and listed in
/// docs/configuration.md ("Server limits"). They bound what one client can make the gateway hold:
/// header bytes, a body, a connection that trickles (slowloris), idle connections, and the number
/// of connections. Bodies that policy or reviews read are bounded further by
/// <c>policy.maxBodyBytes</c>.
/// </summary>
internal static class ServerLimits
{
    public const int MaxRequestLineBytes = 8 * 1024;
    public const int MaxRequestHeadersBytes = 32 * 1024;
    public const int MaxRequestHeaderCount = 100;
    public const long MaxRequestBodyBytes = 64L << 20;
    public const long MaxConcurrentConnections = 10_000;
    public static readonly TimeSpan RequestHeadersTimeout = TimeSpan.FromSeconds(15);
    public static readonly TimeSpan KeepAliveTimeout = TimeSpan.FromSeconds(120);

    /// <summary>A body must arrive, and a response be read, at 240 bytes/s or more after 5 s.</summary>
    public static readonly MinDataRate MinDataRate = new(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));

    public static void Apply(KestrelServerLimits limits)
    {
        limits.MaxRequestLineSize = MaxRequestLineBytes;
        limits.MaxRequestHeadersTotalSize = MaxRequestHeadersBytes;
        limits.MaxRequestHeaderCount = MaxRequestHeaderCount;
        limits.MaxRequestBodySize = MaxRequestBodyBytes;
        limits.MaxConcurrentConnections = MaxConcurrentConnections;
        limits.MaxConcurrentUpgradedConnections = 0;
        limits.RequestHeadersTimeout = RequestHeadersTimeout;
        limits.KeepAliveTimeout = KeepAliveTimeout;
        limits.MinRequestBodyDataRate = MinDataRate;
        limits.MinResponseDataRate = MinDataRate;
    }
}
