using System.Net;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;
using Microsoft.Data.Sqlite;
using static Airlock.FunctionalTests.Faults.StoredRecords;

namespace Airlock.FunctionalTests.Faults;

/// <summary>
/// The store locked or down: the gateway must fail closed (503, nothing forwarded), lose no
/// record of what it refused, and serve again once the store is back.
/// </summary>
public sealed class StoreFaultTests : IAsyncLifetime
{
    private TestUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await TestUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Fact]
    public async Task A_store_locked_longer_than_the_busy_timeout_is_refused_with_503_and_nothing_is_forwarded()
    {
        await using var gateway = await TestGateway.StartAsync(new GatewayConfig { Store = "sqlite: { path: ./airlock.db, busyTimeout: 1s }" }
            .Connection("crm", _upstream.BaseUri));
        var key = await gateway.CreateApiKeyAsync("agent");
        Guid refusedId;

        // Another process holds SQLite's write lock (BEGIN IMMEDIATE; in WAL mode, EXCLUSIVE is
        // the same lock) for longer than the gateway waits for it.
        await using (var other = new SqliteConnection($"Data Source={Path.Combine(gateway.Directory, "airlock.db")};Pooling=False"))
        {
            await other.OpenAsync();
            using var holding = other.BeginTransaction(deferred: false);

            using var refused = await gateway.Proxy.SendAsync(TestGateway.Get("/crm/v1/customers", key));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            await ProblemAsync(refused, "audit-unavailable");
            refusedId = SessionId(refused);
            Assert.Empty(_upstream.Received);
        }

        // Lock released: the refusal's own record is written, and requests pass again.
        await AssertRefusedUnrecordedAsync(gateway.Store, refusedId);
        using var after = await gateway.Proxy.SendAsync(TestGateway.Get("/crm/v1/customers", key));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Single(_upstream.Received);
        Assert.Equal(AuditKinds.RequestAllowed, Assert.Single(await EventsOfAsync(gateway.Store, SessionId(after))).Kind);
        await AssertChainVerifiesAsync(gateway.Store);
    }

    [Fact]
    public async Task A_store_lost_while_a_request_is_held_says_the_review_stays_open_not_retry()
    {
        await using var postgres = await PostgresServer.StartAsync();
        await using var gateway = await TestGateway.StartAsync(new GatewayConfig
        {
            Policy = """
                rules:
                  - name: refunds
                    when: { methods: [POST] }
                    action: review
                    review: { approvers: [finance-approvers], hold: 2s, expires: 1h }
                """,
        }.Postgres(await postgres.CreateDatabaseAsync()).Connection("crm", _upstream.BaseUri));
        var key = await gateway.CreateApiKeyAsync("agent");

        var held = gateway.Proxy.SendAsync(Reviews.ApprovalTests.Post("/crm/v1/refunds", "{\"amount\":5}", key));
        var review = await gateway.PendingReviewAsync();
        // The review row is written before its event: stop the store only once the review is on
        // record, or the agent is rightly told the trail could not take the request at all.
        await Eventually.GetAsync(async () => (await EventsOfAsync(gateway.Store, review.SessionId))
            .FirstOrDefault(e => e.Kind == AuditKinds.ReviewOpened), what: "the review's opened event");
        await postgres.StopAsync();

        // The hold ends with the store gone: the agent must learn its request is still up for
        // review (and may yet run), not "not acted on, try again", which would open a second one.
        using var response = await held;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var problem = await ProblemAsync(response, "store-unavailable");
        Assert.Equal(review.Id.ToString(), (string?)problem["reviewId"]);
        Assert.Null(response.Headers.RetryAfter);
        Assert.Empty(_upstream.Received);

        await postgres.RestartAsync();
        var stillOpen = await Eventually.GetAsync(async () =>
        {
            try
            {
                return await gateway.Store.GetReviewAsync(review.Id, CancellationToken.None);
            }
            catch (Npgsql.NpgsqlException)
            {
                return null;
            }
        }, what: "the review to be readable again");
        Assert.Equal(Gateway.Reviews.ReviewStatus.Pending, stillOpen.Status);
    }

    [Fact]
    public async Task A_stopped_postgres_is_refused_with_503_and_the_gateway_recovers_when_it_is_back()
    {
        // A server of its own: stopping the shared one would break the other tests.
        await using var postgres = await PostgresServer.StartAsync();
        var logs = new CapturedLogs();
        await using var gateway = await TestGateway.StartAsync(new GatewayConfig().Postgres(await postgres.CreateDatabaseAsync())
            .Connection("crm", _upstream.BaseUri), logs: logs);
        var key = await gateway.CreateApiKeyAsync("agent");
        using (var before = await gateway.Proxy.SendAsync(TestGateway.Get("/crm/v1/before", key)))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        await postgres.StopAsync();
        Guid refusedId;
        using (var refused = await gateway.Proxy.SendAsync(TestGateway.Get("/crm/v1/during", key)))
        {
            // The API key cannot be checked: 503, not 401 (the agent must keep its key) and not
            // 500 (nothing is broken in the gateway).
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            await ProblemAsync(refused, "store-unavailable");
            Assert.NotNull(refused.Headers.RetryAfter);
            refusedId = SessionId(refused);
        }

        await postgres.RestartAsync();
        // Pooled connections broken by the restart may fail a request or two: each of those must
        // be a 503 too, never a forwarded request.
        using var after = await Eventually.GetAsync(async () =>
        {
            var response = await gateway.Proxy.SendAsync(TestGateway.Get("/crm/v1/after", key));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return response;
            }

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            response.Dispose();
            return null;
        }, what: "the gateway to serve again");

        Assert.Equal(["/v1/before", "/v1/after"], _upstream.Received.Select(r => r.RawTarget));
        var session = await SessionAsync(gateway.Store, refusedId);
        Assert.Equal(503, session.Status);
        Assert.Equal("store-unavailable", session.Error);
        Assert.Null(session.Decision);
        Assert.Contains(logs.Lines, l => l.Contains("[1002]", StringComparison.Ordinal) && l.Contains(refusedId.ToString(), StringComparison.Ordinal));
        Assert.Equal(AuditKinds.RequestAllowed, Assert.Single(await EventsOfAsync(gateway.Store, SessionId(after))).Kind);
        await AssertChainVerifiesAsync(gateway.Store);
    }
}
