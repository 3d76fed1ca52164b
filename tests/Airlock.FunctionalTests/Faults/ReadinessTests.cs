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
}
