using System.Net.Sockets;
using System.Text;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;
using static Airlock.FunctionalTests.Faults.StoredRecords;

namespace Airlock.FunctionalTests.Faults;

/// <summary>
/// An agent that goes away mid-request: the upstream must never get a short body it could take
/// for a whole one, and the store must still hold the session and its decision. (An agent that
/// leaves while its request is held for review is in
/// Reviews/ApprovalTests.A_caller_that_hangs_up_still_gets_its_approved_request_executed_once;
/// one that leaves mid-execution in Reviews/ReviewExecutionTests.)
/// </summary>
public sealed class ClientDisconnectTests : IAsyncLifetime
{
    private const string Policy = """
        rules:
          - { name: uploads, when: { methods: [POST], paths: [/crm/v1/uploads] }, action: allow }
          - name: big-refunds
            when: { methods: [POST], paths: [/crm/v1/refunds], body: { $.amount: { gt: 1000 } } }
            action: deny
          - { name: small-refunds, when: { methods: [POST], paths: [/crm/v1/refunds] }, action: allow }
        """;

    private readonly CapturedLogs _logs = new();
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig { Policy = Policy }.Connection("crm", _upstream.BaseUri), logs: _logs);
        _key = await _gateway.CreateApiKeyAsync("agent");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    /// <summary>Sends a request head announcing 1,000 bytes of body, then only the first part.</summary>
    private async Task<TcpClient> SendPartAsync(string path, string part, string contentType = "application/json")
    {
        var client = new TcpClient();
        await client.ConnectAsync(_gateway.ProxyUri.Host, _gateway.ProxyUri.Port);
        var head = $"POST {path} HTTP/1.1\r\nHost: {_gateway.ProxyUri.Authority}\r\nAuthorization: Bearer {_key}\r\n"
            + $"Content-Type: {contentType}\r\nContent-Length: 1000\r\n\r\n";
        await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(head + part));
        return client;
    }

    [Fact]
    public async Task An_agent_that_disconnects_mid_body_leaves_the_upstream_with_a_broken_request_not_a_short_one()
    {
        // An upload no rule reads (a JSON or form POST would be read for a _method override).
        const string Part = "{\"file\":\"";
        using (await SendPartAsync("/crm/v1/uploads", Part, "application/octet-stream"))
        {
            // Allowed, on record, and its head already upstream: the body is being streamed.
            await Eventually.GetAsync(() => Task.FromResult(_upstream.Started == 1 ? "started" : null), what: "the upstream to get the request");
        }

        await Eventually.GetAsync(() => Task.FromResult(_upstream.Incomplete + _upstream.Received.Count == 1 ? "ended" : null),
            what: "the upstream's request to end");
        Assert.Equal(1, _upstream.Incomplete);
        var session = await OnlySessionAsync();
        Assert.Empty(_upstream.Received);
        // 499 once the gateway has seen the connection go; 400 when it answered the half-closed
        // connection first. Never a 2xx, never a 500.
        Assert.Contains(session.Status, new[] { 400, 499 });
        Assert.Equal("request-body-error", session.Error);
        Assert.Equal("allow", session.Decision);
        Assert.Equal(Part.Length, session.RequestBytes);
        var allowed = Assert.Single(await EventsOfAsync(_gateway.Store, session.Id));
        Assert.Equal(AuditKinds.RequestAllowed, allowed.Kind);
        await AssertChainVerifiesAsync(_gateway.Store);
    }

    [Fact]
    public async Task An_agent_that_disconnects_while_its_body_is_inspected_gets_nothing_sent_upstream()
    {
        // The rule on the amount needs the whole body before anything is decided.
        const string Part = "{\"amount\":";
        using (await SendPartAsync("/crm/v1/refunds", Part))
        {
        }

        var session = await OnlySessionAsync();
        // 499 once the gateway has seen the connection go; 400 when it answered the half-closed
        // connection first. Never a 2xx, never a 500.
        Assert.Contains(session.Status, new[] { 400, 499 });
        Assert.Equal(0, _upstream.Started);
        var events = await EventsOfAsync(_gateway.Store, session.Id);
        if (session.Decision is null)
        {
            // Gone before the gateway got to read the body: nothing was decided.
            Assert.Empty(events);
        }
        else
        {
            // A body that could not be read is never allowed: the refusal is on record, and
            // the session names the same decision.
            Assert.Equal("request-body-error", session.Error);
            Assert.Equal("deny", session.Decision);
            var denied = Assert.Single(events);
            Assert.Equal(AuditKinds.RequestDenied, denied.Kind);
            Assert.Equal("request-body-error", denied.Detail["reason"]);
        }

        await AssertChainVerifiesAsync(_gateway.Store);
    }

    private async Task<Gateway.Sessions.SessionRecord> OnlySessionAsync()
    {
        try
        {
            return await Eventually.GetAsync(async () => (await _gateway.Store.ListSessionsAsync(new(Limit: 10), CancellationToken.None)).SingleOrDefault(),
                what: "the session to be stored");
        }
        catch (TimeoutException)
        {
            Assert.Fail(string.Join("\n", _logs.Lines.Where(l => !l.StartsWith("Trace", StringComparison.Ordinal))));
            throw;
        }
    }
}
