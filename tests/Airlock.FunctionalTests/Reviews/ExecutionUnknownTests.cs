using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Reviews;

namespace Airlock.FunctionalTests.Reviews;

/// <summary>
/// An approved request that becomes <c>execution-unknown</c> is explained by what happened: an
/// upstream that closed without answering is not a gateway that stopped.
/// </summary>
public sealed class ExecutionUnknownTests : IAsyncLifetime
{
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
        _gateway = await TestGateway.StartAsync(new GatewayConfig { Policy = ReviewExecutionTests.Policy }
            .Connection("billing", _upstream.BaseUri)
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
}
