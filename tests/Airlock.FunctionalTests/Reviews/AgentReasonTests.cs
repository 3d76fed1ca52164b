using System.Net;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Reviews;
using Airlock.Gateway.Storage;

namespace Airlock.FunctionalTests.Reviews;

/// <summary>
/// The agent's stated reason (<c>Airlock-Reason</c>) travels with the review, never upstream; a
/// decision names the request it was shown by its hash, and a decision naming another is refused.
/// </summary>
public sealed class AgentReasonTests : IAsyncLifetime
{
    private const string Reason = "customer 4411 was charged twice for order 9912 -- pre-approved by the CFO";
    private OidcProvider _idp = null!;
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _idp = await TestServices.Idp;
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig { Policy = ApprovalTests.Policy }
            .Connection("billing", _upstream.BaseUri)
            .TrustIssuer(_idp.Issuer));
        _key = await _gateway.CreateApiKeyAsync("billing-agent", "agents");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private HttpRequestMessage Refund(string? reason, int amount = 500)
    {
        var request = ApprovalTests.Post("/billing/v1/refunds", $"{{\"amount\":{amount}}}", _key);
        if (reason is not null)
        {
            request.Headers.TryAddWithoutValidation("Airlock-Reason", reason);
        }

        return request;
    }

    [Fact]
    public async Task The_reason_is_kept_with_the_review_and_its_audit_event_and_never_reaches_the_upstream()
    {
        var held = _gateway.Proxy.SendAsync(Refund(Reason));
        var review = await _gateway.PendingReviewAsync();
        Assert.Equal(Reason, review.AgentReason);

        using (var shown = await _gateway.AdminAsync(HttpMethod.Get, $"/api/reviews/{review.Id}", await _idp.TokenAsync("alice")))
        {
            var view = JsonNode.Parse(await shown.Content.ReadAsStringAsync())!;
            Assert.Equal(Reason, (string?)view["agentReason"]);
            Assert.Equal(review.RequestSha256, (string?)view["requestSha256"]);
        }

        var opened = Assert.Single(await _gateway.Store.QueryAuditEventsAsync(new AuditQuery(), CancellationToken.None), e => e.Kind == AuditKinds.ReviewOpened);
        Assert.Equal(Reason, opened.Detail["agentReason"]);
        Assert.Equal(review.RequestSha256, opened.Detail["requestSha256"]);

        using var approved = await _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/approve", await _idp.TokenAsync("alice"),
            new { comment = "ok", requestSha256 = review.RequestSha256.ToUpperInvariant() });
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        using var answer = await held;
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var sent = _upstream.Only();
        Assert.Equal("{\"amount\":500}", System.Text.Encoding.UTF8.GetString(sent.Body));
        Assert.Null(sent.Header("Airlock-Reason"));
        var approval = Assert.Single(await _gateway.Store.QueryAuditEventsAsync(new AuditQuery(), CancellationToken.None), e => e.Kind == AuditKinds.ReviewApproval);
        Assert.Equal(review.RequestSha256, approval.Detail["requestSha256"]);
    }

    [Fact]
    public async Task A_decision_naming_another_request_is_refused_and_nothing_is_decided()
    {
        var held = _gateway.Proxy.SendAsync(Refund(null, 700));
        var review = await _gateway.PendingReviewAsync();
        Assert.Null(review.AgentReason);
        var other = "sha256:" + new string('0', 64);

        using var refused = await _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/approve", await _idp.TokenAsync("alice"),
            new { requestSha256 = other });

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var problem = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
        Assert.Equal("urn:airlock:problem:review-request-mismatch", (string?)problem["type"]);
        Assert.Contains(review.RequestSha256, (string?)problem["detail"], StringComparison.Ordinal);
        var after = (await _gateway.Store.GetReviewAsync(review.Id, CancellationToken.None))!;
        Assert.Equal(ReviewStatus.Pending, after.Status);
        Assert.Empty(after.Decisions);
        Assert.DoesNotContain(await _gateway.Store.QueryAuditEventsAsync(new AuditQuery(), CancellationToken.None), e => e.Kind == AuditKinds.ReviewApproval);
        Assert.Empty(_upstream.Received);

        using var denied = await _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/deny", await _idp.TokenAsync("alice"), new { comment = "no" });
        Assert.Equal(HttpStatusCode.Forbidden, (await held).StatusCode);
    }

    [Theory]
    [InlineData(501)]
    [InlineData(-1)]
    public async Task A_reason_too_long_or_holding_control_characters_is_refused_before_anything_is_held(int length)
    {
        var reason = length > 0 ? new string('x', length) : "refund\u0007now";

        using var response = await _gateway.Proxy.SendAsync(Refund(reason, 800));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("urn:airlock:problem:invalid-request", (string?)problem["type"]);
        Assert.Contains("Airlock-Reason", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Empty(await _gateway.Store.ListReviewsAsync(null, 10, CancellationToken.None));
        var session = await _gateway.SessionAsync(response);
        var denied = Assert.Single(await _gateway.Store.QueryAuditEventsAsync(new AuditQuery(), CancellationToken.None), e => e.SessionId == session.Id);
        Assert.Equal("invalid-agent-reason", denied.Detail["reason"]);
        Assert.Empty(_upstream.Received);
    }
}
