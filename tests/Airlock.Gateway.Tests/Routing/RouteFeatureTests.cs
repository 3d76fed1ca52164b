using Airlock.Gateway.Configuration;
using Airlock.Gateway.Routing;

namespace Airlock.Gateway.Tests.Routing;

/// <summary>How <c>/{connection}/{rest}</c> is read, once for a live request and for a held one
/// executed later.</summary>
public sealed class RouteFeatureTests : IDisposable
{
    private readonly ConnectionCatalog _connections = new(Load());

    private static AirlockConfig Load()
    {
        var loaded = ConfigLoader.Load("""
            listeners: { proxy: 127.0.0.1:8080, admin: 127.0.0.1:8081 }
            store: { sqlite: ./airlock.db }
            identity: { apiKeys: true }
            connections:
              billing:
                upstream: http://127.0.0.1:9000/api
                credential: { type: none }
            policy: { file: ./policy.yaml }
            """, "/etc/airlock/airlock.yaml", _ => null);
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Errors));
        return loaded.Config!;
    }

    public void Dispose() => _connections.Dispose();

    [Theory]
    [InlineData("/billing/v1/invoices", "/v1/invoices")]
    [InlineData("/billing/", "/")]
    [InlineData("/billing", "")]
    public void The_first_segment_names_the_connection_and_the_rest_goes_upstream(string path, string upstreamPath)
    {
        Assert.True(RouteFeature.TryResolve(_connections, path, out var route));
        Assert.Equal("billing", route.Connection.Name);
        Assert.Equal(upstreamPath, route.UpstreamPath);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("//billing/v1")]
    [InlineData("/crm/v1")]
    [InlineData("/billingx/v1")]
    [InlineData("/Billing/v1")]
    public void A_path_that_names_no_configured_connection_is_not_routed(string path)
    {
        Assert.False(RouteFeature.TryResolve(_connections, path, out var route));
        Assert.Null(route);
    }
}
