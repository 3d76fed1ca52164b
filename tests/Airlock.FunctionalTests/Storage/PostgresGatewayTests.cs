using System.Net;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Storage;

/// <summary>The whole gateway on PostgreSQL: keys, forwarding, sessions, and readiness.</summary>
public sealed class PostgresGatewayTests : IAsyncLifetime
{
    private PostgresServer _postgres = null!;
    private string _database = null!;
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _postgres = await TestServices.Postgres;
        _database = await _postgres.CreateDatabaseAsync();
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig()
            .Postgres(_database)
            .Connection("billing", _upstream.BaseUri)
            .TrustIssuer((await TestServices.Idp).Issuer));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Keys_and_tokens_work_and_sessions_are_stored_in_postgres()
    {
        var key = await _gateway.CreateApiKeyAsync("pg-agent", "agents");
        var token = await (await TestServices.Idp).TokenAsync("report-agent");

        using var withKey = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/a", key));
        using var withToken = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/b", token));
        using var refused = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/c", key + "x"));

        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withToken.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("key:pg-agent", (await _gateway.SessionAsync(withKey)).Subject);
        Assert.Equal("corp:report-agent", (await _gateway.SessionAsync(withToken)).Subject);
        Assert.Equal(401, (await _gateway.SessionAsync(refused)).Status);
        Assert.Equal(["/v1/a", "/v1/b"], _upstream.Received.Select(r => r.RawTarget));
    }

    [Fact]
    public async Task Readiness_fails_when_the_store_is_gone()
    {
        using (var ready = await _gateway.Admin.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        await _postgres.DropDatabaseAsync(_database);

        using var unready = await _gateway.Admin.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unready.StatusCode);
        var body = JsonNode.Parse(await unready.Content.ReadAsStringAsync())!;
        Assert.Equal("unhealthy", (string?)body["status"]);
        Assert.Equal("unhealthy", (string?)body["checks"]!["store"]!["status"]);
        Assert.Equal("healthy", (string?)body["checks"]!["configuration"]!["status"]);
    }
}
