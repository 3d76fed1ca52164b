using System.Net;
using System.Net.Sockets;
using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Forwarding;

/// <summary>
/// The connections the gateway keeps to an upstream: an idle one is closed by the gateway before
/// the upstream's keep-alive would close it under a request, and a body the upstream ends by
/// closing the connection ends as a body, even when the request's own body went out after the
/// answer had begun.
/// </summary>
public sealed class UpstreamConnectionTests : IAsyncLifetime
{
    /// <summary>gunicorn's default keep-alive: the shortest among common upstream servers.</summary>
    private static readonly TimeSpan UpstreamKeepAlive = TimeSpan.FromSeconds(2);

    private readonly List<IAsyncDisposable> _disposables = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var disposable in Enumerable.Reverse(_disposables))
        {
            await disposable.DisposeAsync();
        }
    }

    private async Task<(TestGateway Gateway, string Key)> GatewayAsync(Uri upstream)
    {
        var gateway = await TestGateway.StartAsync(new GatewayConfig().Connection("crm", upstream));
        _disposables.Add(gateway);
        return (gateway, await gateway.CreateApiKeyAsync("agent"));
    }

    [Fact]
    public async Task An_idle_upstream_connection_is_closed_by_the_gateway_before_the_upstream_s_keep_alive_ends()
    {
        // An upstream that keeps a connection open for 2 s after answering, as gunicorn does, and
        // at its worst: a request that arrives once those 2 s are up meets the connection being
        // closed, and is never answered (the keep-alive race).
        var connections = 0;
        var idleEnded = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var upstream = RawUpstream.Start(async socket =>
        {
            Interlocked.Increment(ref connections);
            await RawUpstream.SendAsync(socket, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
            var next = socket.ReceiveAsync(new byte[4096].AsMemory()).AsTask();
            if (await Task.WhenAny(next, Task.Delay(UpstreamKeepAlive)) != next)
            {
                idleEnded.TrySetResult("the upstream's keep-alive ran out first");
                if (await next > 0)
                {
                    socket.Shutdown(SocketShutdown.Both);
                }

                return;
            }

            idleEnded.TrySetResult(await next == 0 ? "the gateway closed it" : "a request came within the keep-alive");
        });
        _disposables.Add(upstream);
        var (gateway, key) = await GatewayAsync(upstream.BaseUri);

        using (var first = await gateway.Proxy.SendAsync(TestGateway.Get("/crm/v1/customers", key)))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        Assert.Equal("the gateway closed it", await idleEnded.Task.WaitAsync(TimeSpan.FromSeconds(30)));

        // The agent's next call, after the pause, goes out on a new connection and is answered.
        using var second = await gateway.Proxy.SendAsync(TestGateway.Get("/crm/v1/customers", key));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(2, connections);
    }

    [Fact]
    public async Task A_body_ended_by_the_upstream_s_close_is_whole_though_the_request_body_went_out_after_the_answer_began()
    {
        // An agent that asks before sending its body (Expect: 100-continue), and an upstream that
        // answers at once, without a 100, all of it, with a body that the connection's end
        // delimits (no length, not chunked); it then reads the request's body, which .NET's
        // handler sends once a final status that is a success has come (RFC 9110 §10.1.1).
        var expected = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var upstream = RawUpstream.Start(async socket =>
        {
            await RawUpstream.SendAsync(socket, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nan early answer, all of it");
            socket.Shutdown(SocketShutdown.Send);
            var buffer = new byte[4096];
            var received = 0;
            while (received < Body.Length)
            {
                var n = await socket.ReceiveAsync(buffer);
                if (n == 0)
                {
                    break;
                }

                received += n;
            }

            expected.TrySetResult(received == Body.Length);
        });
        _disposables.Add(upstream);
        var (gateway, key) = await GatewayAsync(upstream.BaseUri);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/crm/v1/uploads") { Content = new StringContent(Body) };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        request.Headers.ExpectContinue = true;
        using var response = await gateway.Proxy.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("an early answer, all of it", await response.Content.ReadAsStringAsync());
        Assert.True(await expected.Task.WaitAsync(TimeSpan.FromSeconds(30)), "the upstream did not get the request's body");
    }

    private const string Body = "the request's body, sent after the answer began";
}
