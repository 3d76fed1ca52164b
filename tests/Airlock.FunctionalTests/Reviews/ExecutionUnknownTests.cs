using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Reviews;

namespace Airlock.FunctionalTests.Reviews;

/// <summary>
/// An approved request that becomes <c>execution-unknown</c> is explained by what happened: an
/// upstream that closed without answering is not a gateway that stopped. And it is sent once,
/// even on a connection whose <c>retries</c> would send an idempotent request again.
/// </summary>
public sealed class ExecutionUnknownTests : IAsyncLifetime
{
    /// <summary>Refunds and deletions held for finance approvers.</summary>
    private const string Policy = """
        rules:
          - name: refunds
            when: { methods: [POST, DELETE] }
            action: review
            review: { approvers: [finance-approvers], hold: 30s, expires: 1h }
          - name: reads
            when: { methods: [GET] }
            action: allow
        """;

    private OidcProvider _idp = null!;
    private RawUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _idp = await TestServices.Idp;
        // Reads the approved request, then closes without a byte of answer.
        _upstream = RawUpstream.Start(socket =>
        {
            socket.Shutdown(SocketShutdown.Both);
            return Task.CompletedTask;
        });
        _gateway = await TestGateway.StartAsync(new GatewayConfig { Policy = Policy }
            .Connection("billing", _upstream.BaseUri)
            .Connection("ledger", _upstream.BaseUri, "    retries: 3")
            .TrustIssuer(_idp.Issuer));
        _key = await _gateway.CreateApiKeyAsync("billing-agent", "agents");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task An_upstream_that_closed_without_answering_is_what_the_requester_is_told()
    {
        var held = _gateway.Proxy.SendAsync(ApprovalTests.Post("/billing/v1/refunds", "{\"amount\":250}", _key));
        var review = await _gateway.PendingReviewAsync();
        using (var approved = await _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/approve", await _idp.TokenAsync("alice"), new { }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        using (var response = await held)
        {
            // The held caller gets the forwarding's own problem.
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        }

        Assert.Equal(1, _upstream.Requests);
        var unknown = await _gateway.ReviewInStatusAsync(review.Id, ReviewStatus.ExecutionUnknown);
        Assert.Equal(ExecutionUnknownReason.UpstreamClosed, unknown.UnknownReason);

        using var result = await _gateway.Proxy.SendAsync(TestGateway.Get($"/api/reviews/{review.Id}/result", _key));
        Assert.Equal(HttpStatusCode.BadGateway, result.StatusCode);
        var problem = JsonNode.Parse(await result.Content.ReadAsStringAsync())!;
        Assert.Equal("urn:airlock:problem:execution-unknown", (string?)problem["type"]);
        Assert.Equal("the approved request was sent and the upstream closed the connection without answering; it may have acted on it; "
            + "it will not be sent again by itself", (string?)problem["detail"]);
        var recorded = await Eventually.GetAsync(async () => (await _gateway.Store.QueryAuditEventsAsync(new(), CancellationToken.None))
            .FirstOrDefault(e => e.Kind == AuditKinds.ReviewExecutionUnknown && e.ReviewId == review.Id), what: "the execution-unknown event");
        Assert.Equal("upstream-closed", recorded.Detail["reason"]);
    }

    private HttpRequestMessage Delete(string path, string? prefer = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Delete, path);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _key);
        if (prefer is not null)
        {
            request.Headers.Add("Prefer", prefer);
        }

        return request;
    }

    [Fact]
    public async Task An_approved_delete_is_sent_once_even_on_a_connection_that_retries()
    {
        // retries: 3 would send a bodiless DELETE four times to this upstream; an approval is for one.
        var held = _gateway.Proxy.SendAsync(Delete("/ledger/v1/customers/7"));
        var review = await _gateway.PendingReviewAsync();
        using (var approved = await _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/approve", await _idp.TokenAsync("alice"), new { }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        using (var response = await held)
        {
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.Equal("closed", (await _gateway.SessionAsync(response)).UpstreamAttempts);
        }

        var unknown = await _gateway.ReviewInStatusAsync(review.Id, ReviewStatus.ExecutionUnknown);
        Assert.Equal(ExecutionUnknownReason.UpstreamClosed, unknown.UnknownReason);
        Assert.Equal(1, _upstream.Requests);
    }

    [Fact]
    public async Task An_approved_delete_executed_in_the_background_is_sent_once_too()
    {
        using (var accepted = await _gateway.Proxy.SendAsync(Delete("/ledger/v1/customers/8", prefer: "respond-async")))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        var review = await _gateway.PendingReviewAsync();
        using (var approved = await _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/approve", await _idp.TokenAsync("alice"), new { }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        var unknown = await _gateway.ReviewInStatusAsync(review.Id, ReviewStatus.ExecutionUnknown);
        Assert.Equal(ExecutionUnknownReason.UpstreamClosed, unknown.UnknownReason);
        Assert.Equal(1, _upstream.Requests);
    }

    [Fact]
    public async Task A_live_get_on_the_same_connection_is_still_retried()
    {
        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get("/ledger/v1/customers", _key));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("closed,closed,closed,closed", (await _gateway.SessionAsync(response)).UpstreamAttempts);
        Assert.Equal(4, _upstream.Requests);
    }
}
