using System.Net;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Reviews;
using Airlock.Gateway.Storage;
using Airlock.Gateway.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Airlock.FunctionalTests.Reviews;

/// <summary>Grants, expiry and abandoned executions, on a clock the test moves.</summary>
public sealed class ReviewTimeTests : IAsyncLifetime
{
    private const string Policy = """
        rules:
          - name: refunds
            when: { methods: [POST], paths: [/billing/v1/refunds] }
            action: review
            review: { approvers: [finance-approvers], hold: 30s, expires: 2m, maxGrant: 30m }
        """;

    private readonly FakeTimeProvider _time = new(TimeProvider.System.GetUtcNow());
    private OidcProvider _idp = null!;
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _idp = await TestServices.Idp;
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig { Policy = Policy }
            .Connection("billing", _upstream.BaseUri)
            .TrustIssuer(_idp.Issuer), _time);
        _key = await _gateway.CreateApiKeyAsync("billing-agent", "agents");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private Task<HttpResponseMessage> RefundAsync(int amount) =>
        _gateway.Proxy.SendAsync(ApprovalTests.Post("/billing/v1/refunds", $"{{\"amount\":{amount}}}", _key, "respond-async"));

    private async Task<Guid> OpenAsync(int amount)
    {
        using var response = await RefundAsync(amount);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return Guid.Parse((string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["reviewId"]!);
    }

    [Fact]
    public async Task A_window_grant_lets_later_requests_through_until_it_ends()
    {
        var id = await OpenAsync(100);
        using (var approved = await _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{id}/approve", await _idp.TokenAsync("alice"),
            new { comment = "fine for the next 10 minutes", windowMinutes = 10 }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
            Assert.NotNull(JsonNode.Parse(await approved.Content.ReadAsStringAsync())!["grantId"]);
        }

        var executed = await _gateway.ReviewInStatusAsync(id, ReviewStatus.Executed);
        var grantId = executed.GrantId!.Value;

        // Within the window: through at once, recorded with the grant.
        _time.Advance(TimeSpan.FromMinutes(9));
        using (var within = await RefundAsync(200))
        {
            Assert.Equal(HttpStatusCode.OK, within.StatusCode);
            var session = await _gateway.SessionAsync(within);
            Assert.Equal(grantId, session.GrantId);
            Assert.Equal("allow", session.Decision);
            Assert.Equal("refunds", session.Rule);
        }

        Assert.Equal(2, _upstream.Received.Count);

        // After it: held again.
        _time.Advance(TimeSpan.FromMinutes(2));
        using var after = await RefundAsync(300);
        Assert.Equal(HttpStatusCode.Accepted, after.StatusCode);
        Assert.Equal(2, _upstream.Received.Count);
    }

    [Fact]
    public async Task A_revoked_grant_stops_letting_requests_through()
    {
        var id = await OpenAsync(100);
        var alice = await _idp.TokenAsync("alice");
        using (await _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{id}/approve", alice, new { windowMinutes = 30 }))
        {
        }

        var grantId = (await _gateway.ReviewInStatusAsync(id, ReviewStatus.Executed)).GrantId!.Value;
        using (var listed = await _gateway.AdminAsync(HttpMethod.Get, "/api/grants", alice))
        {
            Assert.Contains(grantId.ToString(), await listed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var carolTries = await _gateway.AdminAsync(HttpMethod.Post, $"/api/grants/{grantId}/revoke", await _idp.TokenAsync("carol")))
        {
            Assert.Equal(HttpStatusCode.NotFound, carolTries.StatusCode);
        }

        using (var revoked = await _gateway.AdminAsync(HttpMethod.Post, $"/api/grants/{grantId}/revoke", alice))
        {
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
            Assert.Equal("corp:alice", (string?)JsonNode.Parse(await revoked.Content.ReadAsStringAsync())!["revokedBy"]);
        }

        using var after = await RefundAsync(200);
        Assert.Equal(HttpStatusCode.Accepted, after.StatusCode);
    }

    [Fact]
    public async Task An_undecided_review_expires_and_can_no_longer_be_approved()
    {
        var id = await OpenAsync(100);
        var alice = await _idp.TokenAsync("alice");

        _time.Advance(TimeSpan.FromMinutes(3));
        await _gateway.ReviewInStatusAsync(id, ReviewStatus.Expired);

        using var late = await _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{id}/approve", alice, new { });
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Contains("the review is expired", await late.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var result = await _gateway.Proxy.SendAsync(TestGateway.Get($"/api/reviews/{id}/result", _key));
        Assert.Equal(HttpStatusCode.Forbidden, result.StatusCode);
        Assert.Contains("urn:airlock:problem:review-expired", await result.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task A_held_request_whose_review_expires_is_told_so()
    {
        var held = _gateway.Proxy.SendAsync(ApprovalTests.Post("/billing/v1/refunds", "{\"amount\":1}", _key));
        var review = await _gateway.PendingReviewAsync();

        // Moving straight past the review's expiry (2m), beyond the hold (30s): the hold ends
        // and finds the review expired, not merely undecided.
        _time.Advance(TimeSpan.FromMinutes(3));

        using var response = await held;
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("urn:airlock:problem:review-expired", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await _gateway.ReviewInStatusAsync(review.Id, ReviewStatus.Expired);
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task An_execution_whose_result_cannot_be_recorded_does_not_stay_executing_forever()
    {
        // The store refuses every attempt to record a result, and every expiry, as a full disk
        // or a database that keeps failing would; everything else still works.
        await using (var connection = await ((SqliteStore)_gateway.Store).OpenAsync(CancellationToken.None))
        {
            using var trigger = connection.CreateCommand();
            trigger.CommandText = """
                CREATE TRIGGER results_refused BEFORE UPDATE OF status ON reviews WHEN NEW.status IN ('executed', 'expired')
                BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END
                """;
            await trigger.ExecuteNonQueryAsync();
        }

        // A review left pending: the sweep's expiry step fails on it, which must not stop the rest.
        await OpenAsync(1);
        var id = await OpenAsync(100);
        using (var approved = await _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{id}/approve", await _idp.TokenAsync("alice"), new { }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        await Eventually.GetAsync(() => Task.FromResult(_upstream.Received.Count == 1 ? "sent" : null), what: "the approved request to be sent");
        // The executor is alive and beating, so only the time spent executing can tell.
        _time.Advance(ReviewMaintenance.StuckAfter + TimeSpan.FromSeconds(1));
        await _gateway.Services.GetRequiredService<ReviewMaintenance>().SweepAsync(CancellationToken.None);

        await _gateway.ReviewInStatusAsync(id, ReviewStatus.ExecutionUnknown);
        await Eventually.GetAsync(async () => (await _gateway.Store.QueryAuditEventsAsync(new AuditQuery(), CancellationToken.None))
            .FirstOrDefault(e => e.Kind == AuditKinds.ReviewExecutionUnknown && e.ReviewId == id), what: "the execution-unknown audit event");
        using var result = await _gateway.Proxy.SendAsync(TestGateway.Get($"/api/reviews/{id}/result", _key));
        Assert.Equal(HttpStatusCode.BadGateway, result.StatusCode);
        var body = await result.Content.ReadAsStringAsync();
        Assert.Contains("urn:airlock:problem:execution-unknown", body, StringComparison.Ordinal);
        Assert.Contains("its result could not be recorded", body, StringComparison.Ordinal);
        Assert.Single(_upstream.Received);
    }

    [Fact]
    public async Task An_execution_cut_short_by_a_crash_becomes_execution_unknown_and_is_never_rerun()
    {
        var id = await OpenAsync(100);
        // Approve straight in the store and claim it as an executor that then dies (it never
        // beats), as a gateway crashing right after its claim would leave it.
        var store = _gateway.Store;
        var (outcome, _) = await store.RecordDecisionAsync(id,
            new ReviewDecision("corp:alice", ["finance-approvers"], ReviewDecision.Approve, null, null, _time.GetUtcNow()), _ => null, CancellationToken.None);
        Assert.Equal(Airlock.Gateway.Storage.DecisionOutcome.Approved, outcome);
        Assert.True(await store.TryClaimExecutionAsync(id, "crashed-instance", _time.GetUtcNow(), CancellationToken.None));

        _time.Advance(ReviewMaintenance.StaleAfter + TimeSpan.FromSeconds(2));
        await _gateway.ReviewInStatusAsync(id, ReviewStatus.ExecutionUnknown);
        await _gateway.Services.GetRequiredService<ReviewMaintenance>().SweepAsync(CancellationToken.None);

        Assert.Empty(_upstream.Received);
        using var result = await _gateway.Proxy.SendAsync(TestGateway.Get($"/api/reviews/{id}/result", _key));
        Assert.Equal(HttpStatusCode.BadGateway, result.StatusCode);
        var body = await result.Content.ReadAsStringAsync();
        Assert.Contains("urn:airlock:problem:execution-unknown", body, StringComparison.Ordinal);
        Assert.Contains("the gateway executing the approved request stopped before recording its result", body, StringComparison.Ordinal);
    }
}
