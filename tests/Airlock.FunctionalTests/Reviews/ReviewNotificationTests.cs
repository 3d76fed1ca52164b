using System.Net;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Reviews;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Airlock.FunctionalTests.Reviews;

/// <summary>Telling replicas sharing PostgreSQL about review changes, when that fails.</summary>
public sealed class ReviewNotificationTests
{
    private static GatewayConfig Config(Uri upstream, string issuer, string database) =>
        new GatewayConfig { Policy = ApprovalTests.Policy }.Connection("billing", upstream).TrustIssuer(issuer).Postgres(database);

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task An_approval_stands_and_its_webhook_goes_out_even_when_notifying_the_replicas_fails()
    {
        var idp = await TestServices.Idp;
        var postgres = await TestServices.Postgres;
        var database = await postgres.CreateDatabaseAsync();
        // The gateway's own role may not call pg_notify in this database: every NOTIFY fails,
        // as one does when the database connection drops right after the decision commits.
        var role = "airlock_" + Guid.NewGuid().ToString("N")[..12];
        var name = new NpgsqlConnectionStringBuilder(database).Database;
        await ExecuteAsync(database, $"CREATE ROLE {role} LOGIN; ALTER DATABASE {name} OWNER TO {role}; REVOKE EXECUTE ON FUNCTION pg_notify(text, text) FROM PUBLIC");
        await using var upstream = await TestUpstream.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var config = Config(upstream.BaseUri, idp.Issuer, new NpgsqlConnectionStringBuilder(database) { Username = role }.ToString());
        config.Reviews = """
              webhooks:
                - name: audit
                  url: { env: AUDIT_HOOK }
                  format: json
                  secret: { env: AUDIT_SECRET }
            """;
        config.Environment["AUDIT_HOOK"] = new Uri(receiver.BaseUri, "/audit").ToString();
        config.Environment["AUDIT_SECRET"] = "whsec-test-notify";
        await using var gateway = await TestGateway.StartAsync(config);
        var key = await gateway.CreateApiKeyAsync("billing-agent", "agents");
        using (var accepted = await gateway.Proxy.SendAsync(ApprovalTests.Post("/billing/v1/refunds", "{\"amount\":55}", key, "respond-async")))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        var review = await gateway.PendingReviewAsync();
        using (var approved = await gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/approve", await idp.TokenAsync("alice"), new { }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        await receiver.DeliveryAsync(d => d.Headers["Airlock-Webhook-Event"] == "review.approved", "the approved event");
        await gateway.ReviewInStatusAsync(review.Id, ReviewStatus.Executed);
        await receiver.DeliveryAsync(d => d.Headers["Airlock-Webhook-Event"] == "review.executed", "the executed event");
        await gateway.Services.GetRequiredService<ReviewMaintenance>().IdleAsync();
        Assert.Single(upstream.Received);
    }

    [Fact]
    public async Task A_replica_that_lost_its_listening_connection_rereads_held_reviews_when_it_is_back()
    {
        var idp = await TestServices.Idp;
        var postgres = await TestServices.Postgres;
        var database = await postgres.CreateDatabaseAsync();
        await using var upstream = await TestUpstream.StartAsync();
        const string HoldingName = "airlock-holding";
        await using var holding = await TestGateway.StartAsync(Config(upstream.BaseUri, idp.Issuer,
            new NpgsqlConnectionStringBuilder(database) { ApplicationName = HoldingName }.ToString()));
        await using var approving = await TestGateway.StartAsync(Config(upstream.BaseUri, idp.Issuer, database));
        var key = await holding.CreateApiKeyAsync("billing-agent", "agents");
        var alice = await idp.TokenAsync("alice");

        var held = holding.Proxy.SendAsync(ApprovalTests.Post("/billing/v1/refunds", "{\"amount\":66}", key));
        var review = await approving.PendingReviewAsync();
        const string ListenerOfHolding = $"FROM pg_stat_activity WHERE application_name = '{HoldingName}' AND query = 'LISTEN airlock_reviews'";
        await Eventually.GetAsync(async () =>
        {
            await using var connection = new NpgsqlConnection(database);
            await connection.OpenAsync();
            await using var count = new NpgsqlCommand($"SELECT count(*) {ListenerOfHolding}", connection);
            return (long)(await count.ExecuteScalarAsync())! == 1 ? "listening" : null;
        }, what: "the holding replica to listen");

        // Its listening connection drops, and the approval is made before it reconnects (it
        // waits a second): the notification never reaches it.
        await ExecuteAsync(database, $"SELECT pg_terminate_backend(pid) {ListenerOfHolding}");
        using (var approved = await approving.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/approve", alice, new { }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        // Back, it has its held requests look again: answered well before the 30-second hold ends.
        using var response = await held.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(review.Id.ToString(), Assert.Single(response.Headers.GetValues("Airlock-Review")));
        await holding.ReviewInStatusAsync(review.Id, ReviewStatus.Executed);
        Assert.Single(upstream.Received);
    }
}
