using System.Net;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;
using Microsoft.Data.Sqlite;
using static Airlock.FunctionalTests.Faults.StoredRecords;

namespace Airlock.FunctionalTests.Faults;

/// <summary>
/// <c>/readyz</c> while the store refuses writes: a load balancer must stop sending traffic to a
/// gateway that answers every request with 503, and send it again once the store takes writes.
/// </summary>
public sealed class ReadinessTests : IAsyncLifetime
{
    private TestUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await TestUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    private static async Task<(HttpStatusCode Status, JsonNode Store)> ReadyzAsync(TestGateway gateway)
    {
        using var response = await gateway.Admin.GetAsync("/readyz");
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return (response.StatusCode, body["checks"]!["store"]!);
    }

    [Fact]
    public async Task Readyz_is_unready_while_the_store_refuses_writes_and_ready_again_once_it_takes_them()
    {
        await using var gateway = await TestGateway.StartAsync(new GatewayConfig { Store = "sqlite: { path: ./airlock.db, busyTimeout: 1s }" }
            .Connection("crm", _upstream.BaseUri));
        var key = await gateway.CreateApiKeyAsync("agent");
        Assert.Equal(HttpStatusCode.OK, (await ReadyzAsync(gateway)).Status);

        // Another process holds SQLite's write lock: reads still work (WAL), every write fails.
        await using (var other = new SqliteConnection($"Data Source={Path.Combine(gateway.Directory, "airlock.db")};Pooling=False"))
        {
            await other.OpenAsync();
            using var holding = other.BeginTransaction(deferred: false);

            using (var refused = await gateway.Proxy.SendAsync(TestGateway.Get("/crm/v1/customers", key)))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
                await ProblemAsync(refused, "audit-unavailable");
            }

            var (status, store) = await ReadyzAsync(gateway);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("unhealthy", (string?)store["status"]);
            Assert.StartsWith("sqlite store refuses writes: the last ", (string?)store["detail"], StringComparison.Ordinal);
        }

        // Lock released, no traffic: the refused request's own record is retried and written,
        // and that write makes the gateway ready again.
        await Eventually.GetAsync(async () => (await ReadyzAsync(gateway)).Status == HttpStatusCode.OK ? "ready" : null,
            what: "/readyz to be ready again");
        Assert.Equal("sqlite store reachable", (string?)(await ReadyzAsync(gateway)).Store["detail"]);
        using var after = await gateway.Proxy.SendAsync(TestGateway.Get("/crm/v1/customers", key));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task Readyz_is_unready_while_only_audit_writes_fail_though_session_rows_are_still_written()
    {
        await using var gateway = await TestGateway.StartAsync(new GatewayConfig().Connection("crm", _upstream.BaseUri));
        var key = await gateway.CreateApiKeyAsync("agent");
        Assert.Equal(HttpStatusCode.OK, (await ReadyzAsync(gateway)).Status);

        // Only the audit table refuses writes: every request is refused for its decision, while
        // the session rows of those very requests are written.
        await AuditTableAsync(gateway, "CREATE TRIGGER audit_down BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit table down'); END");
        using (var refused = await gateway.Proxy.SendAsync(TestGateway.Get("/crm/v1/customers", key)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            await ProblemAsync(refused, "audit-unavailable");
            await AssertRefusedUnrecordedAsync(gateway.Store, SessionId(refused));
        }

        // The session row above is a write that succeeded after the audit write failed.
        var (status, store) = await ReadyzAsync(gateway);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.StartsWith("sqlite store refuses writes: the last ", (string?)store["detail"], StringComparison.Ordinal);
        Assert.Contains(" audit write(s) failed", (string?)store["detail"], StringComparison.Ordinal);
        Assert.Empty(_upstream.Received);

        // The audit table takes writes again, with no traffic: the writer finds out by recording
        // the interruption itself, and the gateway is ready and serves again.
        await AuditTableAsync(gateway, "DROP TRIGGER audit_down");
        await Eventually.GetAsync(async () => (await ReadyzAsync(gateway)).Status == HttpStatusCode.OK ? "ready" : null,
            what: "/readyz to be ready again");
        using var after = await gateway.Proxy.SendAsync(TestGateway.Get("/crm/v1/customers", key));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        var events = await gateway.Store.QueryAuditEventsAsync(new Gateway.Storage.AuditQuery(Limit: 10_000), CancellationToken.None);
        var interrupted = Assert.Single(events, e => e.Kind == Gateway.Audit.AuditKinds.AuditInterrupted);
        Assert.Equal("resumed", interrupted.Outcome);
        Assert.True(long.Parse(interrupted.Detail["refusedEvents"], System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.Equal("SqliteException", interrupted.Detail["error"]);
        Assert.True(interrupted.Seq < events.Single(e => e.SessionId == SessionId(after)).Seq);
        await AssertChainVerifiesAsync(gateway.Store);
    }

    internal static async Task AuditTableAsync(TestGateway gateway, string sql)
    {
        await using var other = new SqliteConnection($"Data Source={Path.Combine(gateway.Directory, "airlock.db")};Pooling=False");
        await other.OpenAsync();
        using var command = other.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
