using System.Net;
using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Sessions;

public sealed class SessionTests : IAsyncLifetime
{
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig().Connection("billing", _upstream.BaseUri));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Every_answer_carries_its_session_and_every_session_is_stored()
    {
        var key = await _gateway.CreateApiKeyAsync("agent", "agents");
        using var ok = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/x/../customers", key));
        using var unauthenticated = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/customers"));
        using var unknown = await _gateway.Proxy.SendAsync(TestGateway.Get("/nowhere/v1", key));
        var invalid = await RawHttp.SendAsync(_gateway.ProxyUri, "/billing/%2F", key);

        var okSession = await _gateway.SessionAsync(ok);
        Assert.Equal(200, okSession.Status);
        Assert.Equal("GET", okSession.Method);
        Assert.Equal("/billing/v1/customers", okSession.Path);
        Assert.Equal("billing", okSession.Connection);
        Assert.Equal("key:agent", okSession.Subject);
        Assert.Equal("127.0.0.1", okSession.ClientAddress);
        Assert.Equal(11, okSession.ResponseBytes);
        Assert.NotNull(okSession.UpstreamDuration);
        Assert.True(okSession.Duration >= okSession.UpstreamDuration);
        Assert.Null(okSession.Error);

        Assert.Equal(401, (await _gateway.SessionAsync(unauthenticated)).Status);
        Assert.Equal(404, (await _gateway.SessionAsync(unknown)).Status);

        var invalidId = Guid.Parse(invalid.Headers["Airlock-Session"]);
        var invalidSession = await Eventually.GetAsync(() => _gateway.Store.GetSessionAsync(invalidId, CancellationToken.None));
        Assert.Equal(400, invalidSession.Status);
        Assert.Equal("/billing/%2F", invalidSession.Path);
        Assert.Equal("invalid-request-target", invalidSession.Error);
    }

    [Fact]
    public async Task Concurrent_requests_each_get_one_stored_session()
    {
        var key = await _gateway.CreateApiKeyAsync("busy-agent");
        var responses = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            using var response = await _gateway.Proxy.SendAsync(TestGateway.Get($"/billing/v1/{i}", key));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return Guid.Parse(response.Headers.GetValues("Airlock-Session").Single());
        }));

        Assert.Equal(200, responses.Distinct().Count());
        var stored = await Eventually.GetAsync(async () =>
        {
            var rows = await _gateway.Store.ListSessionsAsync(new(Limit: 1000, Subject: "key:busy-agent"), CancellationToken.None);
            return rows.Count == 200 ? rows : null;
        });
        Assert.Equal(responses.Order(), stored.Select(s => s.Id).Order());
    }
}
