using System.Net;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Hardening;

/// <summary>Rate limits per caller and per connection: 429 problems with Retry-After.</summary>
public sealed class RateLimitTests : IAsyncLifetime
{
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig { TopLevel = "rateLimits:\n  perIdentity: { requests: 5, per: 1m }" }
            .Connection("billing", _upstream.BaseUri)
            .Connection("crm", _upstream.BaseUri, "    rateLimit: { requests: 3, per: 1m }"));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task A_caller_over_its_limit_gets_429_with_retry_after_and_others_are_not_affected()
    {
        var busy = await _gateway.CreateApiKeyAsync("busy-agent");
        var calm = await _gateway.CreateApiKeyAsync("calm-agent");
        for (var i = 0; i < 5; i++)
        {
            (await _gateway.Proxy.SendAsync(TestGateway.Get($"/billing/v1/{i}", busy))).EnsureSuccessStatusCode();
        }

        using var refused = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/over", busy));
        using var other = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/calm", calm));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var retryAfter = refused.Headers.RetryAfter!.Delta!.Value;
        Assert.InRange(retryAfter, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        var problem = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
        Assert.Equal("urn:airlock:problem:rate-limited", (string?)problem["type"]);
        Assert.Contains("key:busy-agent", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.DoesNotContain(_upstream.Received, r => r.RawTarget == "/v1/over");
        Assert.Equal("rate-limited", (await _gateway.SessionAsync(refused)).Error);
    }

    [Fact]
    public async Task A_connection_over_its_limit_refuses_every_caller()
    {
        var first = await _gateway.CreateApiKeyAsync("first-agent");
        var second = await _gateway.CreateApiKeyAsync("second-agent");
        (await _gateway.Proxy.SendAsync(TestGateway.Get("/crm/a", first))).EnsureSuccessStatusCode();
        (await _gateway.Proxy.SendAsync(TestGateway.Get("/crm/b", second))).EnsureSuccessStatusCode();
        (await _gateway.Proxy.SendAsync(TestGateway.Get("/crm/c", first))).EnsureSuccessStatusCode();

        using var refused = await _gateway.Proxy.SendAsync(TestGateway.Get("/crm/d", second));
        using var otherConnection = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/e", second));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("connection 'crm'", (string?)JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["detail"], StringComparison.Ordinal);
        Assert.True(refused.Headers.Contains("Retry-After"));
        Assert.Equal(HttpStatusCode.OK, otherConnection.StatusCode);
    }
}
