using System.Net;
using System.Text;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Reviews;
using Airlock.Gateway.Storage;
using Airlock.Gateway.Storage.Sqlite;

namespace Airlock.FunctionalTests.Reviews;

/// <summary>An approved request executing on its held connection, against an upstream the test
/// keeps waiting: what happens when the caller or the gateway goes away mid-execution.</summary>
public sealed class ReviewExecutionTests : IAsyncLifetime
{
    /// <summary>Refunds (POSTs) held for finance approvers; shared with the other execution tests.</summary>
    internal const string Policy = """
        rules:
          - name: refunds
            when: { methods: [POST] }
            action: review
            review: { approvers: [finance-approvers], hold: 30s, expires: 1h }
        """;

    private readonly CapturedLogs _logs = new();
    private OidcProvider _idp = null!;
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;
    private bool _stopped;

    public async Task InitializeAsync()
    {
        _idp = await TestServices.Idp;
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig { Policy = Policy }
            .Connection("billing", _upstream.BaseUri)
            .TrustIssuer(_idp.Issuer), logs: _logs);
        _key = await _gateway.CreateApiKeyAsync("billing-agent", "agents");
    }

    public async Task DisposeAsync()
    {
        _upstream.Gate.TrySetResult();
        if (!_stopped)
        {
            await _gateway.DisposeAsync();
        }

        await _upstream.DisposeAsync();
    }

    /// <summary>Holds a refund, approves it, and returns once the upstream has it (and waits at the gate).</summary>
    private async Task<(Task<HttpResponseMessage> Held, Review Review)> ExecutingAsync(CancellationToken callerToken)
    {
        var held = _gateway.Proxy.SendAsync(ApprovalTests.Post("/billing/v1/gated", "{\"amount\":250}", _key), callerToken);
        var review = await _gateway.PendingReviewAsync();
        using (var approved = await _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/approve", await _idp.TokenAsync("alice"), new { }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        await Eventually.GetAsync(() => Task.FromResult(_upstream.Received.Count == 1 ? "sent" : null), what: "the upstream to receive the approved request");
        return (held, review);
    }

    [Fact]
    public async Task A_caller_that_hangs_up_mid_execution_does_not_cut_it_short_and_the_true_result_is_stored()
    {
        using var hangUp = new CancellationTokenSource();
        var (held, review) = await ExecutingAsync(hangUp.Token);

        await hangUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held);
        // The gateway has seen the caller go: either it gave up on the upstream, or it says it carries on.
        await Eventually.GetAsync(() => Task.FromResult(
            _upstream.Abandoned > 0 || _logs.Lines.Any(l => l.Contains("[5303]", StringComparison.Ordinal)) ? "seen" : null),
            what: "the gateway to notice the caller left");
        _upstream.Gate.SetResult();

        var executed = await _gateway.ReviewInStatusAsync(review.Id, ReviewStatus.Executed);
        Assert.Equal(0, _upstream.Abandoned);
        Assert.Equal(201, executed.Result!.Status);
        Assert.Equal("{\"refunded\":true}", Encoding.UTF8.GetString(executed.Result.Body));
        using var result = await _gateway.Proxy.SendAsync(TestGateway.Get($"/api/reviews/{review.Id}/result", _key));
        Assert.Equal(HttpStatusCode.Created, result.StatusCode);
        Assert.Equal("{\"refunded\":true}", await result.Content.ReadAsStringAsync());
        Assert.Single(_upstream.Received);
    }

    [Fact]
    public async Task An_execution_cancelled_by_the_gateway_stopping_is_execution_unknown_not_an_invented_result()
    {
        var (held, review) = await ExecutingAsync(CancellationToken.None);

        // Stopping gives executions in flight a grace period, then cancels them; the upstream
        // may have acted, so nothing may claim it did or did not.
        var directory = _gateway.Directory;
        _stopped = true;
        await _gateway.StopAsync();
        try
        {
            using var answer = await held;
            Assert.Equal(HttpStatusCode.BadGateway, answer.StatusCode);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            // The caller may see the connection close as the gateway stops.
        }

        await using var store = new SqliteStore(Path.Combine(directory, "airlock.db"), TimeProvider.System);
        var stored = await store.GetReviewAsync(review.Id, CancellationToken.None);
        Assert.Equal(ReviewStatus.ExecutionUnknown, stored!.Status);
        Assert.Null(stored.Result);
        var events = await store.QueryAuditEventsAsync(new AuditQuery(), CancellationToken.None);
        Assert.Contains(events, e => e.Kind == AuditKinds.ReviewExecutionUnknown && e.ReviewId == review.Id);
        Assert.DoesNotContain(events, e => e.Kind == AuditKinds.ReviewExecuted && e.ReviewId == review.Id);
        Directory.Delete(directory, recursive: true);
    }
}
