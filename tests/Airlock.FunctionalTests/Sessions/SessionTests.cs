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
        var escape = await RawHttp.SendAsync(_gateway.ProxyUri, "/billing/a\u001b[31mred", key);

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

        var escapeId = Guid.Parse(escape.Headers["Airlock-Session"]);
        var escapeSession = await Eventually.GetAsync(() => _gateway.Store.GetSessionAsync(escapeId, CancellationToken.None));
        Assert.Equal(400, escapeSession.Status);
        Assert.Equal("/billing/a%1B[31mred", escapeSession.Path);
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

/// <summary>Session records survive a store that stops taking writes for a while.</summary>
public sealed class SessionWriterOutageTests
{
    [Fact]
    public async Task Sessions_made_while_the_store_refuses_writes_are_stored_once_it_recovers()
    {
        var postgres = await TestServices.Postgres;
        var database = await postgres.CreateDatabaseAsync();
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(new GatewayConfig().Postgres(database).Connection("billing", upstream.BaseUri));
        var key = await gateway.CreateApiKeyAsync("outage-agent");

        await ExecuteAsync(database, "ALTER TABLE sessions RENAME TO sessions_away");
        var ids = new List<Guid>();
        for (var i = 0; i < 20; i++)
        {
            using var response = await gateway.Proxy.SendAsync(TestGateway.Get($"/billing/{i}", key));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            ids.Add(Guid.Parse(response.Headers.GetValues("Airlock-Session").Single()));
        }

        await ExecuteAsync(database, "ALTER TABLE sessions_away RENAME TO sessions");

        var stored = await Eventually.GetAsync(async () =>
        {
            var rows = await gateway.Store.ListSessionsAsync(new(Limit: 100, Subject: "key:outage-agent"), CancellationToken.None);
            return rows.Count == ids.Count ? rows : null;
        }, TimeSpan.FromSeconds(30), "the sessions made during the outage");
        Assert.Equal(ids.Order(), stored.Select(s => s.Id).Order());
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
