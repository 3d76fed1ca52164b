using System.Net;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Routing;

public sealed class RoutingTests : IAsyncLifetime
{
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig().Connection("billing", _upstream.BaseUri));
        _key = await _gateway.CreateApiKeyAsync("agent");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Theory]
    [InlineData("/crm/v1/contacts")]
    [InlineData("/Billing/v1")]
    [InlineData("/")]
    public async Task An_unknown_connection_gets_404(string path)
    {
        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get(path, _key));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("urn:airlock:problem:unknown-connection", (string?)problem["type"]);
        Assert.Empty(_upstream.Received);
        Assert.Equal("unknown-connection", (await _gateway.SessionAsync(response)).Error);
    }

    [Fact]
    public async Task Connection_names_are_not_revealed_to_unauthenticated_callers()
    {
        using var known = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/x"));
        using var unknown = await _gateway.Proxy.SendAsync(TestGateway.Get("/crm/x"));

        Assert.Equal(HttpStatusCode.Unauthorized, known.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
    }

    [Fact]
    public async Task The_admin_listener_never_forwards_and_the_proxy_listener_never_serves_admin_endpoints()
    {
        using var adminProxyPath = await _gateway.Admin.SendAsync(TestGateway.Get("/billing/x", _key));
        using var proxyHealth = await _gateway.Proxy.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.NotFound, adminProxyPath.StatusCode);
        Assert.Equal("application/problem+json", adminProxyPath.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, proxyHealth.StatusCode);
        Assert.Empty(_upstream.Received);
    }
}
