using System.Net;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Forwarding;

public sealed class UpstreamFailureTests : IAsyncLifetime
{
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        var closedPort = FreePort.Next();
        _gateway = await TestGateway.StartAsync(new GatewayConfig()
            .Connection("slow", _upstream.BaseUri, "    timeouts: { response: 300ms }")
            .Connection("down", new Uri($"http://127.0.0.1:{closedPort}"), "    timeouts: { connect: 2s }"));
        _key = await _gateway.CreateApiKeyAsync("agent");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task An_upstream_that_refuses_connections_gets_502()
    {
        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get("/down/v1/x", _key));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var problem = await ProblemAsync(response);
        Assert.Equal("urn:airlock:problem:upstream-unreachable", (string?)problem["type"]);
        var session = await _gateway.SessionAsync(response);
        Assert.Equal(502, session.Status);
        Assert.Equal("upstream-unreachable", session.Error);
        Assert.Equal("down", session.Connection);
    }

    [Fact]
    public async Task An_upstream_slower_than_the_response_timeout_gets_504()
    {
        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get("/slow/hang", _key));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        var problem = await ProblemAsync(response);
        Assert.Equal("urn:airlock:problem:upstream-timeout", (string?)problem["type"]);
        Assert.Contains("300ms", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Equal("/hang", _upstream.Only().RawTarget);
        Assert.Equal("upstream-timeout", (await _gateway.SessionAsync(response)).Error);
    }

    private static async Task<JsonNode> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }
}
