using System.Net;
using System.Net.Sockets;

namespace Airlock.FunctionalTests.Infrastructure;

internal static class FreePort
{
    /// <summary>A loopback port nothing listens on (for servers that cannot bind port 0, and
    /// for "connection refused" tests).</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
