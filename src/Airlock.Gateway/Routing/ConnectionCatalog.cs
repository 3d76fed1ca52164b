using System.Collections.Frozen;
using Airlock.Gateway.Configuration;

namespace Airlock.Gateway.Routing;

/// <summary>The configured connections, looked up by the first path segment without
/// allocating a string for it.</summary>
internal sealed class ConnectionCatalog : IDisposable
{
    private readonly FrozenDictionary<string, ConnectionRoute> _routes;
    private readonly FrozenDictionary<string, ConnectionRoute>.AlternateLookup<ReadOnlySpan<char>> _bySpan;

    public ConnectionCatalog(AirlockConfig config)
    {
        _routes = config.Connections.ToFrozenDictionary(c => c.Name, c => new ConnectionRoute(c, traced: config.Traces is not null), StringComparer.Ordinal);
        _bySpan = _routes.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public IEnumerable<ConnectionRoute> All => _routes.Values;

    public bool TryGet(ReadOnlySpan<char> name, out ConnectionRoute route) => _bySpan.TryGetValue(name, out route!);

    public void Dispose()
    {
        foreach (var route in _routes.Values)
        {
            route.Dispose();
        }
    }
}
