using System.Net;
using Airlock.Cli;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Reviews;
using Microsoft.Extensions.DependencyInjection;

namespace Airlock.FunctionalTests.Reviews;

/// <summary>Reviews across the CLI, a gateway restart, and two replicas sharing PostgreSQL.</summary>
public sealed class ReviewLifecycleTests
{
    private static GatewayConfig Config(Uri upstream, string issuer) =>
        new GatewayConfig { Policy = ApprovalTests.Policy }.Connection("billing", upstream).TrustIssuer(issuer);

    private static async Task<(int Exit, string Out, string Err)> CliAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await AirlockCli.RunAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task The_cli_lists_shows_and_decides_against_a_running_gateway()
    {
        var idp = await TestServices.Idp;
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(Config(upstream.BaseUri, idp.Issuer));
        var key = await gateway.CreateApiKeyAsync("billing-agent", "agents");
        var held = gateway.Proxy.SendAsync(ApprovalTests.Post("/billing/v1/refunds", "{\"amount\":321}", key));
        var review = await gateway.PendingReviewAsync();
        var admin = gateway.AdminUri.ToString();
        var alice = await idp.TokenAsync("alice");

        var list = await CliAsync("reviews", "list", "--admin-url", admin, "--token", alice);
        Assert.Equal(0, list.Exit);
        Assert.Contains(review.Id.ToString(), list.Out, StringComparison.Ordinal);
        Assert.Contains("POST /billing/v1/refunds", list.Out, StringComparison.Ordinal);

        var show = await CliAsync("reviews", "show", review.Id.ToString(), "--admin-url", admin, "--token", alice);
        Assert.Equal(0, show.Exit);
        Assert.Contains("{\"amount\":321}", show.Out, StringComparison.Ordinal);
        Assert.Contains("you may decide it", show.Out, StringComparison.Ordinal);

        var carol = await CliAsync("reviews", "approve", review.Id.ToString(), "--admin-url", admin, "--token", await idp.TokenAsync("carol"));
        Assert.Equal(1, carol.Exit);
        Assert.True(carol.Err.Contains("403 only members of finance-approvers may decide this review", StringComparison.Ordinal), carol.Err);

        var approve = await CliAsync("reviews", "approve", review.Id.ToString(), "-m", "checked with ada", "--admin-url", admin, "--token", alice);
        Assert.Equal(0, approve.Exit);
        Assert.Contains("is now approved (1/1 approvals)", approve.Out, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await held).StatusCode);

        var missing = await CliAsync("reviews", "list");
        Assert.Equal(2, missing.Exit);
        Assert.Contains("--admin-url or AIRLOCK_ADMIN_URL", missing.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pending_review_survives_a_restart_and_executes_once_after_it()
    {
        var idp = await TestServices.Idp;
        await using var upstream = await TestUpstream.StartAsync();
        var config = Config(upstream.BaseUri, idp.Issuer);
        var first = await TestGateway.StartAsync(config);
        var directory = first.Directory;
        var key = await first.CreateApiKeyAsync("billing-agent", "agents");
        using (var accepted = await first.Proxy.SendAsync(ApprovalTests.Post("/billing/v1/refunds", "{\"amount\":999}", key, "respond-async")))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        var review = await first.PendingReviewAsync();
        await first.StopAsync();

        await using var second = await TestGateway.StartAsync(config, directory: directory);
        using (var approved = await second.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/approve", await idp.TokenAsync("bob"), new { }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        await second.ReviewInStatusAsync(review.Id, ReviewStatus.Executed);
        await second.Services.GetRequiredService<ReviewMaintenance>().SweepAsync(CancellationToken.None);
        await second.Services.GetRequiredService<ReviewMaintenance>().IdleAsync();
        Assert.Equal("{\"amount\":999}", System.Text.Encoding.UTF8.GetString(upstream.Only().Body));
        using var result = await second.Proxy.SendAsync(TestGateway.Get($"/api/reviews/{review.Id}/result", key));
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
    }

    [Fact]
    public async Task An_approval_on_one_replica_releases_a_request_held_on_another()
    {
        var idp = await TestServices.Idp;
        var postgres = await TestServices.Postgres;
        var database = await postgres.CreateDatabaseAsync();
        await using var upstream = await TestUpstream.StartAsync();
        await using var holding = await TestGateway.StartAsync(Config(upstream.BaseUri, idp.Issuer).Postgres(database));
        await using var approving = await TestGateway.StartAsync(Config(upstream.BaseUri, idp.Issuer).Postgres(database));
        var key = await holding.CreateApiKeyAsync("billing-agent", "agents");

        var held = holding.Proxy.SendAsync(ApprovalTests.Post("/billing/v1/refunds", "{\"amount\":77}", key));
        var review = await approving.PendingReviewAsync();
        using (var approved = await approving.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/approve", await idp.TokenAsync("alice"), new { }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        // Woken through LISTEN/NOTIFY, well before its 30-second hold would end.
        using var response = await held.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(review.Id.ToString(), Assert.Single(response.Headers.GetValues("Airlock-Review")));
        await holding.ReviewInStatusAsync(review.Id, ReviewStatus.Executed);
        await approving.Services.GetRequiredService<ReviewMaintenance>().IdleAsync();
        Assert.Single(upstream.Received);
    }
}
