using System.Net;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Reviews;

namespace Airlock.FunctionalTests.Reviews;

/// <summary>
/// An approved request whose upstream fails: recorded as executed only when the gateway knows
/// what happened upstream; when the upstream may have acted without answering, the review is
/// execution-unknown, so nobody takes a timeout for "not done" and sends it again.
/// </summary>
public sealed class ReviewUpstreamFailureTests : IAsyncLifetime
{
    private const string Policy = ReviewExecutionTests.Policy;

    private OidcProvider _idp = null!;
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _idp = await TestServices.Idp;
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig { Policy = Policy }
            .Connection("slow", _upstream.BaseUri, "    timeouts: { response: 300ms }")
            .Connection("down", new Uri($"http://127.0.0.1:{FreePort.Next()}"), "    timeouts: { connect: 2s }")
            .TrustIssuer(_idp.Issuer));
        _key = await _gateway.CreateApiKeyAsync("billing-agent", "agents");
    }

    public async Task DisposeAsync()
    {
        _upstream.Gate.TrySetResult();
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private async Task<(HttpResponseMessage Response, Review Review)> ApprovedAsync(string path)
    {
        var held = _gateway.Proxy.SendAsync(ApprovalTests.Post(path, "{\"amount\":250}", _key));
        var review = await _gateway.PendingReviewAsync();
        using (var approved = await _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/approve", await _idp.TokenAsync("alice"), new { }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        return (await held, review);
    }

    private async Task<List<string>> ReviewEventsAsync(Guid reviewId) =>
        [.. (await _gateway.Store.QueryAuditEventsAsync(new(), CancellationToken.None)).Where(e => e.ReviewId == reviewId).Select(e => e.Kind)];

    [Fact]
    public async Task An_upstream_that_does_not_answer_in_time_leaves_the_review_execution_unknown()
    {
        var (response, review) = await ApprovedAsync("/slow/v1/gated");

        using (response)
        {
            Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
            var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal("urn:airlock:problem:upstream-timeout", (string?)problem["type"]);
        }

        // The upstream has the request: it may have refunded.
        Assert.Equal("/v1/gated", _upstream.Only().RawTarget);
        var unknown = await _gateway.ReviewInStatusAsync(review.Id, ReviewStatus.ExecutionUnknown);
        Assert.Null(unknown.Result);
        await Eventually.GetAsync(async () => (await ReviewEventsAsync(review.Id)).Contains(AuditKinds.ReviewExecutionUnknown) ? "recorded" : null,
            what: "the execution-unknown event");
        Assert.DoesNotContain(AuditKinds.ReviewExecuted, await ReviewEventsAsync(review.Id));
    }

    [Fact]
    public async Task An_upstream_that_cannot_be_reached_is_executed_with_the_failure_as_its_result()
    {
        var (response, review) = await ApprovedAsync("/down/v1/refunds");

        using (response)
        {
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal("urn:airlock:problem:upstream-unreachable", (string?)problem["type"]);
        }

        // Nothing reached the upstream, so the outcome is known: it did not happen.
        var executed = await _gateway.ReviewInStatusAsync(review.Id, ReviewStatus.Executed);
        Assert.Equal(502, executed.Result!.Status);
        await Eventually.GetAsync(async () => (await ReviewEventsAsync(review.Id)).Contains(AuditKinds.ReviewExecuted) ? "recorded" : null,
            what: "the executed event");
    }
}
