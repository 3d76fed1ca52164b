using System.Net;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;
using static Airlock.FunctionalTests.Faults.StoredRecords;

namespace Airlock.FunctionalTests.Faults;

/// <summary>
/// An upstream that breaks: resets mid-response, goes silent mid-response, closes without an
/// answer, or answers with bytes that are not HTTP. The agent must never read a cut response as
/// a complete one, and the session must say what happened. (A refused connection and an
/// upstream silent before its headers are in Forwarding/UpstreamFailureTests.)
/// </summary>
public sealed class UpstreamFaultTests : IAsyncLifetime
{
    private const string Head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    private const string FirstChunk = "{\"customers\":[{\"id\":1},";

    // The upstream breaks only once the agent has read the first chunk: the agent has
    // certainly been told 200, so only its read of the rest can tell it the response was cut.
    private readonly TaskCompletionSource _agentReadFirstChunk = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CapturedLogs _logs = new();
    private RawUpstream? _upstream;
    private TestGateway? _gateway;
    private string _key = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }
    }

    private async Task<TestGateway> StartAsync(Func<RawUpstream, Func<System.Net.Sockets.Socket, Task>> script)
    {
        RawUpstream? upstream = null;
        upstream = RawUpstream.Start(socket => script(upstream!)(socket));
        _upstream = upstream;
        // Recording bodies, so the stored exchange shows what the agent was sent.
        _gateway = await TestGateway.StartAsync(new GatewayConfig()
            .Connection("crm", upstream.BaseUri, "    timeouts: { response: 1s }\n    recording: { bodies: true }"), logs: _logs);
        _key = await _gateway.CreateApiKeyAsync("agent");
        return _gateway;
    }

    private static string Chunk(string text) => $"{text.Length:x}\r\n{text}\r\n";

    [Fact]
    public async Task An_upstream_that_resets_mid_response_breaks_the_agents_read_and_the_session_says_so()
    {
        var gateway = await StartAsync(_ => async socket =>
        {
            await RawUpstream.SendAsync(socket, Head + Chunk(FirstChunk));
            await _agentReadFirstChunk.Task;
            RawUpstream.Reset(socket);
        });

        await AssertCutAsync(gateway, "upstream-error");
    }

    [Fact]
    public async Task An_upstream_that_goes_silent_mid_response_is_cut_after_the_response_timeout()
    {
        var gateway = await StartAsync(upstream => async socket =>
        {
            await RawUpstream.SendAsync(socket, Head + Chunk(FirstChunk));
            await upstream.SilenceAsync();
        });

        await AssertCutAsync(gateway, "upstream-timeout");
    }

    [Fact]
    public async Task An_upstream_that_closes_without_answering_gets_502_upstream_error_and_the_request_is_not_sent_again()
    {
        var gateway = await StartAsync(_ => socket =>
        {
            socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
            return Task.CompletedTask;
        });

        // A POST: .NET's handler would try a GET without a body again on a new connection,
        // but a request with a body must reach the upstream once, whatever became of it.
        var post = new HttpRequestMessage(HttpMethod.Post, "/crm/v1/refunds") { Content = new StringContent("{\"amount\":5}") };
        post.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _key);
        await AssertBadGatewayAsync(gateway, post);
    }

    [Fact]
    public async Task An_upstream_that_resets_before_answering_gets_502_upstream_error()
    {
        var gateway = await StartAsync(_ => socket =>
        {
            RawUpstream.Reset(socket);
            return Task.CompletedTask;
        });

        await AssertBadGatewayAsync(gateway);
    }

    [Theory]
    [InlineData("SMTP ready\r\n\r\n")]
    [InlineData("HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\n{}")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nBad Header\r\n\r\n{}")]
    public async Task An_upstream_that_answers_malformed_http_gets_502_upstream_error(string answer)
    {
        var gateway = await StartAsync(_ => socket => RawUpstream.SendAsync(socket, answer));

        await AssertBadGatewayAsync(gateway);
    }

    [Fact]
    public async Task A_malformed_chunk_mid_response_breaks_the_agents_read()
    {
        var gateway = await StartAsync(upstream => async socket =>
        {
            await RawUpstream.SendAsync(socket, Head + Chunk(FirstChunk));
            await _agentReadFirstChunk.Task;
            await RawUpstream.SendAsync(socket, "zz\r\nnot a chunk\r\n");
            await upstream.SilenceAsync();
        });

        await AssertCutAsync(gateway, "upstream-error");
    }

    /// <summary>Headers were sent, so the status is 200; the agent's read of the body must
    /// fail, not end as if the body were complete.</summary>
    private async Task AssertCutAsync(TestGateway gateway, string error)
    {
        using var request = TestGateway.Get("/crm/v1/customers", _key);
        using var response = await gateway.Proxy.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var id = SessionId(response);
        await using var body = await response.Content.ReadAsStreamAsync();
        var first = new byte[FirstChunk.Length];
        await body.ReadExactlyAsync(first);
        Assert.Equal(FirstChunk, System.Text.Encoding.UTF8.GetString(first));
        _agentReadFirstChunk.SetResult();
        var rest = await Record.ExceptionAsync(() => body.CopyToAsync(Stream.Null));
        Assert.True(rest is HttpRequestException or IOException, $"the agent read the cut response as complete ({rest})");

        var session = await SessionAsync(gateway.Store, id);
        Assert.Equal(200, session.Status);
        Assert.Equal(error, session.Error);
        Assert.Equal("allow", session.Decision);
        Assert.Equal(FirstChunk.Length, session.ResponseBytes);
        var exchange = await gateway.Store.GetExchangeAsync(id, CancellationToken.None);
        Assert.Equal(FirstChunk, System.Text.Encoding.UTF8.GetString(exchange!.ResponseBody));
        await AssertAllowedOnRecordAsync(gateway, id);
    }

    private async Task AssertBadGatewayAsync(TestGateway gateway, HttpRequestMessage? request = null)
    {
        using var sent = request ?? TestGateway.Get("/crm/v1/customers", _key);
        using var response = await gateway.Proxy.SendAsync(sent);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var problem = await ProblemAsync(response, "upstream-error");
        var id = SessionId(response);
        Assert.Equal(id.ToString(), (string?)problem["sessionId"]);
        Assert.Equal(1, _upstream!.Requests);
        var session = await SessionAsync(gateway.Store, id);
        Assert.Equal(502, session.Status);
        Assert.Equal("upstream-error", session.Error);
        await AssertAllowedOnRecordAsync(gateway, id);
    }

    private static async Task AssertAllowedOnRecordAsync(TestGateway gateway, Guid sessionId)
    {
        var events = await EventsOfAsync(gateway.Store, sessionId);
        Assert.Equal(AuditKinds.RequestAllowed, Assert.Single(events).Kind);
        await AssertChainVerifiesAsync(gateway.Store);
    }
}
