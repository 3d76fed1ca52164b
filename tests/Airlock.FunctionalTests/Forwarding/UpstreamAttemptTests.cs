using System.Net;
using System.Net.Sockets;
using Airlock.FunctionalTests.Infrastructure;
using static Airlock.FunctionalTests.Faults.StoredRecords;

namespace Airlock.FunctionalTests.Forwarding;

/// <summary>
/// How many times a request reaches its upstream, and what the agent is told when the upstream
/// does not answer. .NET's HTTP handler silently sends a request again when a connection closes
/// before any byte of the answer; the gateway must not: once by default, and only as many more
/// times as the connection's <c>retries</c> allow, for idempotent requests, each attempt on record.
/// </summary>
public sealed class UpstreamAttemptTests : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _disposables = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var disposable in Enumerable.Reverse(_disposables))
        {
            await disposable.DisposeAsync();
        }
    }

    /// <summary>An upstream that reads each request's head, then closes without a byte of answer.</summary>
    private RawUpstream Closing()
    {
        var upstream = RawUpstream.Start(socket =>
        {
            socket.Shutdown(SocketShutdown.Both);
            return Task.CompletedTask;
        });
        _disposables.Add(upstream);
        return upstream;
    }

    private async Task<(TestGateway Gateway, string Key)> GatewayAsync(GatewayConfig config)
    {
        var gateway = await TestGateway.StartAsync(config);
        _disposables.Add(gateway);
        return (gateway, await gateway.CreateApiKeyAsync("agent"));
    }

    private static HttpRequestMessage Post(string path, string key)
    {
        var post = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("{\"amount\":5}") };
        post.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return post;
    }

    [Fact]
    public async Task A_get_to_an_upstream_that_closes_without_answering_reaches_it_once_and_the_agent_is_told_it_may_have_arrived()
    {
        var upstream = Closing();
        var (gateway, key) = await GatewayAsync(new GatewayConfig().Connection("crm", upstream.BaseUri));

        using var response = await gateway.Proxy.SendAsync(TestGateway.Get("/crm/v1/customers", key));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(1, upstream.Requests);
        var problem = await ProblemAsync(response, "upstream-error");
        Assert.Equal("the upstream closed the connection without answering; the request was sent and may have reached it", (string?)problem["detail"]);
        var session = await SessionAsync(gateway.Store, SessionId(response));
        Assert.Equal("upstream-error", session.Error);
        Assert.Equal("closed", session.UpstreamAttempts);
    }

    [Fact]
    public async Task With_retries_a_get_is_sent_again_on_a_new_connection_and_every_attempt_is_on_record()
    {
        // The first connection closes without answering; the next one answers.
        var connections = 0;
        var upstream = RawUpstream.Start(async socket =>
        {
            if (Interlocked.Increment(ref connections) == 1)
            {
                socket.Shutdown(SocketShutdown.Both);
                return;
            }

            await RawUpstream.SendAsync(socket, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
        });
        _disposables.Add(upstream);
        var (gateway, key) = await GatewayAsync(new GatewayConfig().Connection("crm", upstream.BaseUri, "    retries: 2"));

        using var response = await gateway.Proxy.SendAsync(TestGateway.Get("/crm/v1/customers", key));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{}", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, upstream.Requests);
        Assert.Equal("closed,answered", (await SessionAsync(gateway.Store, SessionId(response))).UpstreamAttempts);
    }

    [Fact]
    public async Task Retries_stop_at_the_configured_count_and_never_apply_to_a_request_with_a_body()
    {
        var upstream = Closing();
        var (gateway, key) = await GatewayAsync(new GatewayConfig().Connection("crm", upstream.BaseUri, "    retries: 2"));

        using (var get = await gateway.Proxy.SendAsync(TestGateway.Get("/crm/v1/customers", key)))
        {
            Assert.Equal(HttpStatusCode.BadGateway, get.StatusCode);
            Assert.Equal(3, upstream.Requests);
            await ProblemAsync(get, "upstream-error");
            Assert.Equal("closed,closed,closed", (await SessionAsync(gateway.Store, SessionId(get))).UpstreamAttempts);
        }

        using var post = await gateway.Proxy.SendAsync(Post("/crm/v1/refunds", key));
        Assert.Equal(HttpStatusCode.BadGateway, post.StatusCode);
        Assert.Equal(4, upstream.Requests);
        Assert.Equal("closed", (await SessionAsync(gateway.Store, SessionId(post))).UpstreamAttempts);
    }

    [Fact]
    public async Task A_retry_refused_after_an_attempt_that_was_sent_is_not_called_unreachable()
    {
        // The upstream takes the request, stops listening, and closes: the retry is refused.
        RawUpstream? upstream = null;
        upstream = RawUpstream.Start(async socket =>
        {
            await upstream!.DisposeAsync();
            socket.Shutdown(SocketShutdown.Both);
        });
        var (gateway, key) = await GatewayAsync(new GatewayConfig().Connection("crm", upstream.BaseUri, "    retries: 1"));

        using var response = await gateway.Proxy.SendAsync(TestGateway.Get("/crm/v1/customers", key));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(1, upstream.Requests);
        var problem = await ProblemAsync(response, "upstream-error");
        Assert.Contains("may have reached it", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Equal("closed,unreachable", (await SessionAsync(gateway.Store, SessionId(response))).UpstreamAttempts);
    }

    [Fact]
    public async Task An_upstream_that_refuses_connections_is_unreachable_and_nothing_was_sent()
    {
        var (gateway, key) = await GatewayAsync(new GatewayConfig()
            .Connection("down", new Uri($"http://127.0.0.1:{FreePort.Next()}"), "    retries: 1"));

        using var response = await gateway.Proxy.SendAsync(TestGateway.Get("/down/v1/customers", key));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var problem = await ProblemAsync(response, "upstream-unreachable");
        Assert.EndsWith("nothing was sent", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Equal("unreachable,unreachable", (await SessionAsync(gateway.Store, SessionId(response))).UpstreamAttempts);
    }
}
