using System.Net;

namespace Airlock.Gateway.Configuration;

/// <summary>
/// The two listeners. Agents reach the proxy listener only; the admin API, health and (later)
/// the console live on the admin listener, so the control plane is never exposed where agents
/// connect.
/// </summary>
internal sealed record ListenersConfig(IPEndPoint Proxy, IPEndPoint Admin);
