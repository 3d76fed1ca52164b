using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Reviews;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;

namespace Airlock.FunctionalTests.Reviews;

/// <summary>
/// An approved request the gateway sends by itself (its caller was answered 202) takes the path
/// a live request takes: its own session, counted, masked and recorded the same way, and a
/// store that fails while its result is recorded is retried rather than losing the result.
/// </summary>
public sealed class BackgroundExecutionTests : IAsyncLifetime
{
    private const string Policy = """
        rules:
          - name: notes
            when: { methods: [POST] }
            action: review
            review: { approvers: [finance-approvers], hold: 30s, expires: 1h }
        """;

    private readonly CapturedLogs _logs = new();
    private OidcProvider _idp = null!;
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _idp = await TestServices.Idp;
        _upstream = await TestUpstream.StartAsync();
        _upstream.Routes["/notes"] = async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{\"id\":7,\"owner\":\"ada@example.com\"}");
        };
        _gateway = await TestGateway.StartAsync(new GatewayConfig { Policy = Policy, Store = "sqlite: { path: ./airlock.db, busyTimeout: 1s }" }
            .Connection("crm", _upstream.BaseUri, "    masking:\n      detectors: [{ detector: email }]")
            .TrustIssuer(_idp.Issuer), logs: _logs);
        _key = await _gateway.CreateApiKeyAsync("crm-agent", "agents");
    }

    public async Task DisposeAsync()
    {
        _upstream.Gate.TrySetResult();
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    /// <summary>Sends a POST that is answered 202 at once, and approves its review.</summary>
    private async Task<Guid> AcceptedAndApprovedAsync(string path, string payload)
    {
        using var accepted = await _gateway.Proxy.SendAsync(ApprovalTests.Post(path, payload, _key, "wait=0"));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var id = Guid.Parse((string)JsonNode.Parse(await accepted.Content.ReadAsStringAsync())!["reviewId"]!);
        using var approved = await _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{id}/approve", await _idp.TokenAsync("alice"), new { });
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        return id;
    }

    [Fact]
    public async Task A_background_execution_is_its_own_session_counted_masked_and_recorded_like_a_live_request()
    {
        const string payload = "{\"text\":\"call bob@example.com\"}";
        var id = await AcceptedAndApprovedAsync("/crm/notes", payload);

        var executed = await _gateway.ReviewInStatusAsync(id, ReviewStatus.Executed);
        Assert.Equal(payload, Encoding.UTF8.GetString(_upstream.Only().Body));
        var sessionId = executed.Result!.SessionId;
        var session = await Eventually.GetAsync(() => _gateway.Store.GetSessionAsync(sessionId, CancellationToken.None), what: "the execution's session");
        Assert.Equal(200, session.Status);
        Assert.Equal("allow", session.Decision);
        Assert.Equal("notes", session.Rule);
        Assert.Equal(id, session.ReviewId);
        Assert.Equal("crm", session.Connection);
        Assert.Equal("crm-agent", session.KeyName);
        Assert.Equal("/crm/notes", session.Path);
        // Counted as the bytes passed, as for a live request: the stored body out, the masked answer back.
        Assert.Equal(Encoding.UTF8.GetByteCount(payload), session.RequestBytes);
        const string masked = "{\"id\":7,\"owner\":\"[REDACTED:EMAIL]\"}";
        Assert.Equal(Encoding.UTF8.GetByteCount(masked), session.ResponseBytes);
        Assert.Equal(1, session.Masked);

        // Recorded as the agent would have seen it: masked both ways, no credential kept.
        var exchange = await Eventually.GetAsync(() => _gateway.Store.GetExchangeAsync(sessionId, CancellationToken.None), what: "the execution's exchange");
        Assert.Equal(masked, Encoding.UTF8.GetString(exchange.ResponseBody));
        Assert.Equal("{\"text\":\"call [REDACTED:EMAIL]\"}", Encoding.UTF8.GetString(exchange.RequestBody));
        Assert.DoesNotContain(exchange.RequestHeaders, h => h.Value.Contains(_key, StringComparison.Ordinal));
        Assert.Contains(exchange.RequestHeaders, h => h.Key == "Content-Type");

        // The result the agent fetches is the same answer.
        using var result = await _gateway.Proxy.SendAsync(TestGateway.Get($"/api/reviews/{id}/result", _key));
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        Assert.Equal(masked, await result.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_store_that_fails_while_the_result_is_recorded_is_retried_and_the_result_kept()
    {
        var id = await AcceptedAndApprovedAsync("/crm/gated", "{\"amount\":1}");
        await Eventually.GetAsync(() => Task.FromResult(_upstream.Received.Count == 1 ? "sent" : null), what: "the upstream to receive the approved request");

        // Another process takes SQLite's write lock while the upstream still holds its answer,
        // for longer than the gateway's busy timeout: the first attempt to record the result fails.
        await using (var other = new SqliteConnection($"Data Source={Path.Combine(_gateway.Directory, "airlock.db")};Pooling=False"))
        {
            await other.OpenAsync();
            using var holding = other.BeginTransaction(deferred: false);
            _upstream.Gate.SetResult();
            await Eventually.GetAsync(() => Task.FromResult(_logs.Lines.FirstOrDefault(l => l.Contains("[5305]", StringComparison.Ordinal) && l.Contains(id.ToString(), StringComparison.Ordinal))),
                what: "a failed attempt to record the result");
        }

        var executed = await _gateway.ReviewInStatusAsync(id, ReviewStatus.Executed);
        Assert.Equal(201, executed.Result!.Status);
        Assert.Single(_upstream.Received);
        Assert.DoesNotContain(_logs.Lines, l => l.Contains("[5306]", StringComparison.Ordinal));
    }
}
