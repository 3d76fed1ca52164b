using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Identity.ApiKeys;
using Airlock.Gateway.Reviews;
using Airlock.Gateway.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Airlock.FunctionalTests.Reviews;

/// <summary>Held requests through the real gateway: real upstream, real OIDC tokens for people.</summary>
public sealed class ApprovalTests : IAsyncLifetime
{
    internal const string Policy = """
        rules:
          - { name: reads, when: { methods: [GET] }, action: allow }
          - name: refunds
            when: { methods: [POST], paths: [/billing/v1/refunds] }
            action: review
            review: { approvers: [finance-approvers], hold: 30s, expires: 1h, maxGrant: 30m }
          - name: plan-changes
            when: { methods: [PUT] }
            action: review
            review: { approvers: [finance-approvers], approvals: 2, hold: 30s }
        """;

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
            .TrustIssuer(_idp.Issuer));
        _key = await _gateway.CreateApiKeyAsync("billing-agent", "agents");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    internal static HttpRequestMessage Post(string path, string json, string bearer, string? prefer = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        if (prefer is not null)
        {
            request.Headers.Add("Prefer", prefer);
        }

        return request;
    }

    private Task<HttpResponseMessage> DecideAsync(string person, Guid id, string verdict, object? body = null) =>
        DecideWithTokenAsync(person, id, verdict, body);

    private async Task<HttpResponseMessage> DecideWithTokenAsync(string person, Guid id, string verdict, object? body) =>
        await _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{id}/{verdict}", await _idp.TokenAsync(person), body ?? new { });

    [Fact]
    public async Task Approved_while_held_the_exact_payload_is_sent_once_and_answered()
    {
        const string payload = "{\"customer\":\"ada\",\"amount\":500}";
        var held = _gateway.Proxy.SendAsync(Post("/billing/v1/refunds?source=agent", payload, _key));
        var review = await _gateway.PendingReviewAsync();

        // The approver sees exactly what would be sent.
        using (var shown = await _gateway.AdminAsync(HttpMethod.Get, $"/api/reviews/{review.Id}", await _idp.TokenAsync("alice")))
        {
            var view = JsonNode.Parse(await shown.Content.ReadAsStringAsync())!;
            Assert.Equal("POST", (string?)view["request"]!["method"]);
            Assert.Equal("/billing/v1/refunds", (string?)view["request"]!["path"]);
            Assert.Equal("source=agent", (string?)view["request"]!["query"]);
            Assert.Equal(payload, (string?)view["request"]!["body"]!["text"]);
            Assert.DoesNotContain(_key, await shown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.True((bool)view["canDecide"]!);
        }

        Assert.Empty(_upstream.Received);
        using (var approved = await DecideAsync("alice", review.Id, "approve", new { comment = "ok for ada" }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        using var response = await held;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(review.Id.ToString(), Assert.Single(response.Headers.GetValues("Airlock-Review")));
        var received = _upstream.Only();
        Assert.Equal("/v1/refunds?source=agent", received.RawTarget);
        Assert.Equal(payload, Encoding.UTF8.GetString(received.Body));
        Assert.Equal("Bearer " + GatewayConfig.UpstreamToken, received.Header("Authorization"));
        var executed = await _gateway.ReviewInStatusAsync(review.Id, ReviewStatus.Executed);
        Assert.Equal(200, executed.Result!.Status);
        Assert.Equal("{\"ok\":true}", Encoding.UTF8.GetString(executed.Result.Body));
        var session = await _gateway.SessionAsync(response);
        Assert.Equal(review.Id, session.ReviewId);
        Assert.Equal(200, session.Status);
    }

    [Fact]
    public async Task Denied_the_caller_gets_the_approvers_comment_and_nothing_is_sent()
    {
        var held = _gateway.Proxy.SendAsync(Post("/billing/v1/refunds", "{\"amount\":9000}", _key));
        var review = await _gateway.PendingReviewAsync();

        using (var denied = await DecideAsync("bob", review.Id, "deny", new { comment = "Not this quarter." }))
        {
            Assert.Equal(HttpStatusCode.OK, denied.StatusCode);
        }

        using var response = await held;
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("urn:airlock:problem:review-denied", (string?)problem["type"]);
        Assert.Equal("Not this quarter.", (string?)problem["detail"]);
        Assert.Equal("corp:bob", (string?)problem["deniedBy"]);
        Assert.Equal(review.Id.ToString(), (string?)problem["reviewId"]);
        Assert.Empty(_upstream.Received);
        Assert.Equal(ReviewStatus.Denied, (await _gateway.Store.GetReviewAsync(review.Id, CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task Window_over_the_caller_gets_202_and_the_approval_later_executes_in_the_background()
    {
        using var accepted = await _gateway.Proxy.SendAsync(Post("/billing/v1/refunds", "{\"amount\":700}", _key, "wait=0"));

        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal("wait=0", Assert.Single(accepted.Headers.GetValues("Preference-Applied")));
        var location = accepted.Headers.Location!.OriginalString;
        var body = JsonNode.Parse(await accepted.Content.ReadAsStringAsync())!;
        Assert.Equal("pending", (string?)body["status"]);
        var id = Guid.Parse((string)body["reviewId"]!);
        Assert.Equal($"/api/reviews/{id}", location);

        // Before a decision, the result is not ready.
        using (var early = await _gateway.Proxy.SendAsync(TestGateway.Get(location + "/result", _key)))
        {
            Assert.Equal(HttpStatusCode.Accepted, early.StatusCode);
        }

        using (var approved = await DecideAsync("alice", id, "approve"))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        await _gateway.ReviewInStatusAsync(id, ReviewStatus.Executed);
        using var result = await _gateway.Proxy.SendAsync(TestGateway.Get(location + "/result", _key));
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        Assert.Equal("{\"ok\":true}", await result.Content.ReadAsStringAsync());
        Assert.Equal("{\"amount\":700}", Encoding.UTF8.GetString(_upstream.Only().Body));

        // Only the requester may follow it.
        var other = await _gateway.CreateApiKeyAsync("other-agent", "agents");
        using var stranger = await _gateway.Proxy.SendAsync(TestGateway.Get(location + "/result", other));
        Assert.Equal(HttpStatusCode.NotFound, stranger.StatusCode);
    }

    [Fact]
    public async Task A_caller_that_hangs_up_still_gets_its_approved_request_executed_once()
    {
        using var hangUp = new CancellationTokenSource();
        var held = _gateway.Proxy.SendAsync(Post("/billing/v1/refunds", "{\"amount\":800}", _key), hangUp.Token);
        var review = await _gateway.PendingReviewAsync();
        await hangUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held);
        // The held connection is gone once its session is recorded: a caller that left, held.
        var abandoned = await Eventually.GetAsync(async () => (await _gateway.Store.ListSessionsAsync(new(Limit: 10), CancellationToken.None))
            .FirstOrDefault(s => s.ReviewId == review.Id), what: "the abandoned session");
        Assert.Equal(499, abandoned.Status);
        Assert.Equal("review", abandoned.Decision);
        Assert.Equal(ReviewStatus.Pending, (await _gateway.Store.GetReviewAsync(review.Id, CancellationToken.None))!.Status);

        using (var approved = await DecideAsync("alice", review.Id, "approve"))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        var executed = await _gateway.ReviewInStatusAsync(review.Id, ReviewStatus.Executed);
        Assert.Equal(200, executed.Result!.Status);
        await _gateway.Services.GetRequiredService<ReviewMaintenance>().IdleAsync();
        Assert.Single(_upstream.Received);
        using var result = await _gateway.Proxy.SendAsync(TestGateway.Get($"/api/reviews/{review.Id}/result", _key));
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        // The trail holds the whole story once, and still verifies. The executed event goes
        // through the audit writer after the review's row says executed: wait for it, then count.
        var events = await Eventually.GetAsync(async () =>
        {
            var kinds = (await _gateway.Store.QueryAuditEventsAsync(new(), CancellationToken.None)).Where(e => e.ReviewId == review.Id).Select(e => e.Kind).ToList();
            return kinds.Contains(Gateway.Audit.AuditKinds.ReviewExecuted) ? kinds : null;
        }, what: "the review.executed audit event");
        Assert.Equal(1, events.Count(k => k == Gateway.Audit.AuditKinds.ReviewOpened));
        Assert.Equal(1, events.Count(k => k == Gateway.Audit.AuditKinds.ReviewApproved));
        Assert.Equal(1, events.Count(k => k == Gateway.Audit.AuditKinds.ReviewExecuted));
        var verification = await Gateway.Audit.AuditStoreVerification.VerifyAsync(_gateway.Store, null, CancellationToken.None);
        Assert.True(verification.Valid, verification.Break?.Problem);
    }

    [Fact]
    public async Task A_key_created_again_under_a_revoked_keys_name_inherits_neither_its_reviews_nor_its_grants()
    {
        Guid id;
        using (var accepted = await _gateway.Proxy.SendAsync(Post("/billing/v1/refunds", "{\"amount\":100}", _key, "respond-async")))
        {
            id = Guid.Parse((string)JsonNode.Parse(await accepted.Content.ReadAsStringAsync())!["reviewId"]!);
        }

        using (var approved = await DecideAsync("alice", id, "approve", new { windowMinutes = 30 }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        Assert.NotNull((await _gateway.ReviewInStatusAsync(id, ReviewStatus.Executed)).GrantId);
        using (var underGrant = await _gateway.Proxy.SendAsync(Post("/billing/v1/refunds", "{\"amount\":101}", _key)))
        {
            Assert.Equal(HttpStatusCode.OK, underGrant.StatusCode);
        }

        Assert.NotNull(await _gateway.Services.GetRequiredService<ApiKeyService>().RevokeAsync("billing-agent", CancellationToken.None));
        var successor = await _gateway.CreateApiKeyAsync("billing-agent", "agents");

        // Same name, same subject (key:billing-agent), different key: the old key's review is not its own...
        using (var result = await _gateway.Proxy.SendAsync(TestGateway.Get($"/api/reviews/{id}/result", successor)))
        {
            Assert.Equal(HttpStatusCode.NotFound, result.StatusCode);
        }

        using (var status = await _gateway.Proxy.SendAsync(TestGateway.Get($"/api/reviews/{id}", successor)))
        {
            Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
        }

        // ...and the old key's grant does not let its requests through.
        using var held = await _gateway.Proxy.SendAsync(Post("/billing/v1/refunds", "{\"amount\":102}", successor, "respond-async"));
        Assert.Equal(HttpStatusCode.Accepted, held.StatusCode);
        Assert.Equal(2, _upstream.Received.Count);
        using var own = await _gateway.Proxy.SendAsync(TestGateway.Get(held.Headers.Location!.OriginalString, successor));
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
    }

    [Fact]
    public async Task A_request_approved_while_held_is_claimed_before_the_hold_ends_so_no_background_executor_takes_it()
    {
        // A background executor (the sweep here, or another replica) takes any approved review
        // nobody holds. Stand one in, inside the real database: the instant a hold is released
        // on a review still only approved, it claims it, as a racing executor would.
        await using (var connection = await ((SqliteStore)_gateway.Store).OpenAsync(CancellationToken.None))
        {
            using var trigger = connection.CreateCommand();
            trigger.CommandText = """
                CREATE TRIGGER racing_executor AFTER UPDATE OF held_by ON reviews
                WHEN NEW.held_by IS NULL AND NEW.status = 'approved'
                BEGIN
                    UPDATE reviews SET status = 'executing', executor = 'racing-executor', executing_since = 0 WHERE id = NEW.id;
                END
                """;
            await trigger.ExecuteNonQueryAsync();
        }

        var held = _gateway.Proxy.SendAsync(Post("/billing/v1/refunds", "{\"amount\":650}", _key));
        var review = await _gateway.PendingReviewAsync();
        using (var approved = await DecideAsync("alice", review.Id, "approve"))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        // The held connection claimed it while still holding it: the caller gets the answer.
        using var response = await held;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(review.Id.ToString(), Assert.Single(response.Headers.GetValues("Airlock-Review")));
        Assert.Equal(200, (await _gateway.ReviewInStatusAsync(review.Id, ReviewStatus.Executed)).Result!.Status);
        Assert.Single(_upstream.Received);
    }

    [Fact]
    public async Task Two_approvers_racing_cause_one_execution()
    {
        var held = _gateway.Proxy.SendAsync(Post("/billing/v1/refunds", "{\"amount\":600}", _key));
        var review = await _gateway.PendingReviewAsync();
        var aliceToken = await _idp.TokenAsync("alice");
        var bobToken = await _idp.TokenAsync("bob");

        var decisions = await Task.WhenAll(
            _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/approve", aliceToken, new { }),
            _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/approve", bobToken, new { }),
            _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/approve", aliceToken, new { }));

        Assert.Equal(1, decisions.Count(d => d.StatusCode == HttpStatusCode.OK));
        Assert.Equal(2, decisions.Count(d => d.StatusCode == HttpStatusCode.Conflict));
        using var response = await held;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await _gateway.ReviewInStatusAsync(review.Id, ReviewStatus.Executed);
        await _gateway.Services.GetRequiredService<ReviewMaintenance>().IdleAsync();
        Assert.Single(_upstream.Received);
    }

    [Fact]
    public async Task The_requester_can_never_approve_their_own_request()
    {
        // Alice is an approver, but this request is her own.
        var held = _gateway.Proxy.SendAsync(Post("/billing/v1/refunds", "{\"amount\":100}", await _idp.TokenAsync("alice"), "wait=0"));
        var review = await _gateway.PendingReviewAsync();

        using var own = await DecideAsync("alice", review.Id, "approve");

        Assert.Equal(HttpStatusCode.Forbidden, own.StatusCode);
        Assert.Contains("you asked for this request yourself", await own.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Accepted, (await held).StatusCode);
        Assert.Equal(ReviewStatus.Pending, (await _gateway.Store.GetReviewAsync(review.Id, CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task Nor_through_an_api_key_they_own()
    {
        var service = _gateway.Services.GetRequiredService<ApiKeyService>();
        var (created, _) = await service.CreateAsync("alice-bot", ["agents"], CancellationToken.None, owner: "corp:alice");
        using var accepted = await _gateway.Proxy.SendAsync(Post("/billing/v1/refunds", "{\"amount\":100}", created!.Text, "wait=0"));
        var review = await _gateway.PendingReviewAsync();

        using var own = await DecideAsync("alice", review.Id, "approve");

        Assert.Equal(HttpStatusCode.Forbidden, own.StatusCode);
        Assert.Equal("corp:alice", review.Requester.Owner);
    }

    [Fact]
    public async Task Someone_outside_the_approver_groups_cannot_decide_or_even_see_it()
    {
        using var accepted = await _gateway.Proxy.SendAsync(Post("/billing/v1/refunds", "{\"amount\":100}", _key, "wait=0"));
        var review = await _gateway.PendingReviewAsync();
        var carol = await _idp.TokenAsync("carol");

        using var decide = await _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/approve", carol, new { });
        using var see = await _gateway.AdminAsync(HttpMethod.Get, $"/api/reviews/{review.Id}", carol);
        using var list = await _gateway.AdminAsync(HttpMethod.Get, "/api/reviews?status=pending", carol);

        Assert.Equal(HttpStatusCode.Forbidden, decide.StatusCode);
        Assert.Contains("only members of finance-approvers", await decide.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, see.StatusCode);
        Assert.Equal("[]", await list.Content.ReadAsStringAsync());
        using var approverList = await _gateway.AdminAsync(HttpMethod.Get, "/api/reviews?status=pending", await _idp.TokenAsync("bob"));
        Assert.Contains(review.Id.ToString(), await approverList.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rule_needing_two_approvals_waits_for_two_people()
    {
        var request = new HttpRequestMessage(HttpMethod.Put, "/billing/v1/plans/42") { Content = new StringContent("{\"monthlyPrice\":99}", Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _key);
        var held = _gateway.Proxy.SendAsync(request);
        var review = await _gateway.PendingReviewAsync("plan-changes");

        using (var first = await DecideAsync("alice", review.Id, "approve"))
        {
            var view = JsonNode.Parse(await first.Content.ReadAsStringAsync())!;
            Assert.Equal("pending", (string?)view["status"]);
            Assert.Equal(1, (int?)view["approvals"]);
        }

        Assert.Empty(_upstream.Received);
        Assert.False(held.IsCompleted);
        using (var second = await DecideAsync("bob", review.Id, "approve"))
        {
            Assert.Equal("approved", (string?)JsonNode.Parse(await second.Content.ReadAsStringAsync())!["status"]);
        }

        using var response = await held;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("PUT", _upstream.Only().Method);
    }

    [Fact]
    public async Task Bad_decisions_get_clear_problems()
    {
        using var accepted = await _gateway.Proxy.SendAsync(Post("/billing/v1/refunds", "{\"amount\":100}", _key, "respond-async"));
        var review = await _gateway.PendingReviewAsync();

        using var tooLong = await DecideAsync("alice", review.Id, "approve", new { windowMinutes = 60 });
        using var windowOnDeny = await DecideAsync("alice", review.Id, "deny", new { windowMinutes = 5 });
        using var unknown = await DecideAsync("alice", Guid.NewGuid(), "approve");
        using var garbage = await _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/approve", await _idp.TokenAsync("alice"), "not an object");

        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Contains("the rule's maximum, 30m", await tooLong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, windowOnDeny.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
        Assert.Equal(ReviewStatus.Pending, (await _gateway.Store.GetReviewAsync(review.Id, CancellationToken.None))!.Status);
    }
}
