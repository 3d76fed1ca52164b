using System.Net;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.FunctionalTests.Reviews;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Storage;
using Microsoft.Data.Sqlite;

namespace Airlock.FunctionalTests.Audit;

/// <summary>What the gateway writes into the audit trail as requests and people act, and that it
/// refuses to act on what it cannot record.</summary>
public sealed class AuditRecordingTests : IAsyncLifetime
{
    private OidcProvider _idp = null!;
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _idp = await TestServices.Idp;
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig { Policy = ApprovalTests.Policy, Admin = "  adminGroups: [airlock-admins]" }
            .Connection("billing", _upstream.BaseUri)
            .TrustIssuer(_idp.Issuer));
        _key = await _gateway.CreateApiKeyAsync("billing-agent", "agents");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private Task<IReadOnlyList<AuditEvent>> EventsAsync() =>
        _gateway.Store.QueryAuditEventsAsync(new AuditQuery(), CancellationToken.None);

    [Fact]
    public async Task Who_asked_who_approved_and_what_happened_is_one_verifiable_story()
    {
        (await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/invoices", _key))).EnsureSuccessStatusCode();
        using (var refused = await _gateway.Proxy.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/billing/v1/customers/1")
        {
            Headers = { Authorization = new("Bearer", _key) },
        }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        var held = _gateway.Proxy.SendAsync(ApprovalTests.Post("/billing/v1/refunds", "{\"amount\":500}", _key));
        var review = await _gateway.PendingReviewAsync();
        using (var approved = await _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/approve", await _idp.TokenAsync("alice"),
            new { comment = "customer confirmed", windowMinutes = 10 }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        (await held).EnsureSuccessStatusCode();
        (await _gateway.Proxy.SendAsync(ApprovalTests.Post("/billing/v1/refunds", "{\"amount\":20}", _key))).EnsureSuccessStatusCode();
        var grant = (await _gateway.Store.GetReviewAsync(review.Id, CancellationToken.None))!.GrantId!.Value;
        (await _gateway.AdminAsync(HttpMethod.Post, $"/api/grants/{grant}/revoke", await _idp.TokenAsync("alice"))).EnsureSuccessStatusCode();

        // Events for what was already done (an execution, a revocation) are queued, not awaited.
        var events = await Eventually.GetAsync(async () =>
            await EventsAsync() is var all && all.Any(e => e.Kind == AuditKinds.GrantRevoked) && all.Any(e => e.Kind == AuditKinds.ReviewExecuted) ? all : null);

        var requests = events.Where(e => e.Kind.StartsWith("request.", StringComparison.Ordinal)).ToList();
        Assert.Equal([AuditKinds.RequestAllowed, AuditKinds.RequestDenied, AuditKinds.RequestGranted], requests.Select(e => e.Kind));
        Assert.Equal(("reads", "GET", "/billing/v1/invoices"), (requests[0].Rule, requests[0].Target!.Method, requests[0].Target!.Path));
        Assert.Null(requests[1].Rule);
        Assert.Equal(grant.ToString(), requests[2].Detail["grantId"]);
        Assert.All(requests, e => Assert.Equal(("key:billing-agent", "apikey"), (e.Actor!.Subject, e.Actor.AuthMethod)));
        Assert.All(requests, e => Assert.Equal(_gateway.Policies.Current.Version, e.PolicyVersion));
        Assert.All(requests, e => Assert.NotNull(e.SessionId));

        var story = events.Where(e => e.ReviewId == review.Id).ToList();
        Assert.Equal(
            [AuditKinds.ReviewOpened, AuditKinds.ReviewApproval, AuditKinds.ReviewApproved, AuditKinds.GrantCreated, AuditKinds.ReviewExecuted, AuditKinds.GrantRevoked],
            story.Select(e => e.Kind));
        Assert.Equal(("key:billing-agent", "held"), (story[0].Actor!.Subject, story[0].Outcome));
        var approval = story[1];
        Assert.EndsWith(":alice", approval.Actor!.Subject, StringComparison.Ordinal);
        Assert.Contains("finance-approvers", approval.Actor.Groups);
        Assert.Equal(("customer confirmed", "10", "key:billing-agent"), (approval.Detail["comment"], approval.Detail["windowMinutes"], approval.Detail["requester"]));
        Assert.Equal("200", story[4].Detail["resultStatus"]);
        Assert.All(story[..^1], e => Assert.Equal(("refunds", "POST", "/billing/v1/refunds"), (e.Rule, e.Target!.Method, e.Target!.Path)));
        var revoked = events.Single(e => e.Kind == AuditKinds.GrantRevoked);
        Assert.Equal(grant.ToString(), revoked.Detail["grantId"]);
        Assert.EndsWith(":alice", revoked.Actor!.Subject, StringComparison.Ordinal);

        var verified = await AuditStoreVerification.VerifyAsync(_gateway.Store, null, CancellationToken.None);
        Assert.True(verified.Valid, verified.Break?.Problem);
        Assert.Equal(events.Count, verified.Count);
        Assert.Equal(AuditKinds.GatewayStarted, events[0].Kind);
        Assert.StartsWith("sha256:", events[0].Detail["configSha256"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_that_cannot_be_recorded_is_refused_and_never_forwarded_then_service_resumes()
    {
        await using (var db = new SqliteConnection($"Data Source={Path.Combine(_gateway.Directory, "airlock.db")};Pooling=false"))
        {
            await db.OpenAsync();
            var hide = db.CreateCommand();
            hide.CommandText = "ALTER TABLE audit_events RENAME TO audit_events_away";
            await hide.ExecuteNonQueryAsync();

            using var refused = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/invoices", _key));

            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            var problem = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
            Assert.Equal("urn:airlock:problem:audit-unavailable", (string?)problem["type"]);
            Assert.Empty(_upstream.Received);
            Assert.Equal("audit-unavailable", (await _gateway.SessionAsync(refused)).Error);

            var restore = db.CreateCommand();
            restore.CommandText = "ALTER TABLE audit_events_away RENAME TO audit_events";
            await restore.ExecuteNonQueryAsync();
        }

        using var served = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/invoices", _key));

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Single(_upstream.Received);
        var verified = await AuditStoreVerification.VerifyAsync(_gateway.Store, null, CancellationToken.None);
        Assert.True(verified.Valid, verified.Break?.Problem);
    }

    [Fact]
    public async Task An_approval_the_trail_cannot_record_is_not_taken()
    {
        var held = _gateway.Proxy.SendAsync(ApprovalTests.Post("/billing/v1/refunds", "{\"amount\":900}", _key, prefer: "wait=1"));
        var review = await _gateway.PendingReviewAsync();
        await using (var db = new SqliteConnection($"Data Source={Path.Combine(_gateway.Directory, "airlock.db")};Pooling=false"))
        {
            await db.OpenAsync();
            var hide = db.CreateCommand();
            hide.CommandText = "ALTER TABLE audit_events RENAME TO audit_events_away";
            await hide.ExecuteNonQueryAsync();

            using var refused = await _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/approve", await _idp.TokenAsync("alice"), new { comment = "ok" });

            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("urn:airlock:problem:audit-unavailable", (string?)JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["type"]);
            var restore = db.CreateCommand();
            restore.CommandText = "ALTER TABLE audit_events_away RENAME TO audit_events";
            await restore.ExecuteNonQueryAsync();
        }

        var stillPending = await _gateway.Store.GetReviewAsync(review.Id, CancellationToken.None);
        Assert.Equal("pending", stillPending!.Status);
        Assert.Empty(stillPending.Decisions);
        Assert.Empty(_upstream.Received);
        Assert.Equal(HttpStatusCode.Accepted, (await held).StatusCode);
    }
}
