using System.Net;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Hosting;

namespace Airlock.FunctionalTests.Hardening;

/// <summary>The deliberate Kestrel limits, as a client runs into them.</summary>
public sealed class ServerLimitsTests : IAsyncLifetime
{
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig().Connection("files", _upstream.BaseUri));
        _key = await _gateway.CreateApiKeyAsync("uploader");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Headers_over_the_limit_are_refused_before_the_pipeline()
    {
        var request = TestGateway.Get("/files/x", _key);
        request.Headers.TryAddWithoutValidation("X-Padding", new string('a', ServerLimits.MaxRequestHeadersBytes));

        using var response = await _gateway.Proxy.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused_with_a_413_problem_and_not_forwarded()
    {
        var request = new HttpRequestMessage(HttpMethod.Put, "/files/upload")
        {
            Content = new StreamContent(new MemoryStream(new byte[ServerLimits.MaxRequestBodyBytes + 1])),
        };
        request.Headers.Authorization = new("Bearer", _key);

        // The gateway answers and closes while the client is still sending: the client may see
        // the 413 or a broken pipe. The session says what happened either way.
        try
        {
            using var response = await _gateway.Proxy.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Equal("urn:airlock:problem:body-too-large", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["type"]);
        }
        catch (HttpRequestException)
        {
        }

        var session = await Eventually.GetAsync(async () =>
            (await _gateway.Store.ListSessionsAsync(new Airlock.Gateway.Sessions.SessionQuery(), CancellationToken.None)).FirstOrDefault(s => s.Path == "/files/upload"));
        Assert.Equal((413, "body-too-large"), (session.Status, session.Error));
        // The upstream may have seen the start of the stream; it never got a whole request.
        Assert.DoesNotContain(_upstream.Received, r => r.RawTarget == "/upload");
    }
}
