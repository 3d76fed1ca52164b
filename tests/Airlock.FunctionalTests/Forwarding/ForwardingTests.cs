using System.Net;
using System.Net.Http.Headers;
using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Forwarding;

public sealed class ForwardingTests : IAsyncLifetime
{
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig()
            .Connection("billing", new Uri(_upstream.BaseUri, "/api/"))
            .Connection("tickets", _upstream.BaseUri, "    credential: { type: header, header: X-Api-Key, secret: { env: UPSTREAM_TOKEN } }")
            .Connection("crm", _upstream.BaseUri, "    credential: { type: basic, username: svc-airlock, secret: { env: UPSTREAM_TOKEN } }")
            .Connection("public", _upstream.BaseUri, "    credential: { type: none }"));
        _key = await _gateway.CreateApiKeyAsync("agent", "agents");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task The_connection_base_path_replaces_the_connection_segment_and_the_query_is_kept()
    {
        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/customers/42?expand=cards&q=a%20b&q=c+d", _key));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/api/v1/customers/42?expand=cards&q=a%20b&q=c+d", _upstream.Only().RawTarget);
    }

    // An origin-form target is never empty (RFC 9112 3.2.1): sent as "" or "?page=2", Kestrel and
    // Node answer 400 and Python's wsgiref closes the connection (found by the differential suite).
    [Theory]
    [InlineData("/tickets", "/")]
    [InlineData("/tickets/", "/")]
    [InlineData("/tickets?page=2", "/?page=2")]
    public async Task The_connection_alone_reaches_an_upstream_without_a_base_path_at_its_root(string path, string target)
    {
        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get(path, _key));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(target, _upstream.Only().RawTarget);
    }

    [Fact]
    public async Task The_request_body_reaches_the_upstream_byte_for_byte()
    {
        var body = new byte[300_000];
        Random.Shared.NextBytes(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/billing/v1/uploads") { Content = new ByteArrayContent(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _key);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");

        using var response = await _gateway.Proxy.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = _upstream.Only();
        Assert.Equal("POST", received.Method);
        Assert.Equal(body, received.Body);
        Assert.Equal("application/octet-stream", received.Header("Content-Type"));
        var session = await _gateway.SessionAsync(response);
        Assert.Equal(body.Length, session.RequestBytes);
        Assert.Equal("{\"ok\":true}".Length, session.ResponseBytes);
    }

    [Theory]
    [InlineData("tickets", "X-Api-Key", GatewayConfig.UpstreamToken)]
    [InlineData("crm", "Authorization", "Basic c3ZjLWFpcmxvY2s6dXBzdHJlYW0tc2VjcmV0LXRva2VuLTlmOGU3ZA==")]
    public async Task Each_credential_kind_is_injected(string connection, string header, string value)
    {
        using var request = TestGateway.Get($"/{connection}/x", _key);
        request.Headers.Add("X-Api-Key", "agent-supplied-key");

        using var response = await _gateway.Proxy.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = _upstream.Only();
        Assert.Equal(value, received.Header(header));
        Assert.DoesNotContain(received.Headers, h => h.Value.Contains(_key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_connection_without_a_credential_sends_none_and_never_the_callers()
    {
        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get("/public/x", _key));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(_upstream.Only().Header("Authorization"));
    }

    [Fact]
    public async Task Identity_and_credential_headers_from_the_caller_are_never_forwarded()
    {
        using var request = TestGateway.Get("/billing/x", _key);
        request.Headers.Add("X-Forwarded-User", "root");
        request.Headers.Add("X-Forwarded-Email", "ceo@example.com");
        request.Headers.Add("Remote-User", "admin");
        request.Headers.Add("X-Auth-Request-Groups", "admins");
        request.Headers.Add("X-Amzn-Oidc-Identity", "someone");
        request.Headers.Add("Airlock-Subject", "someone-else");
        request.Headers.Add("Proxy-Authorization", "Basic Zm9vOmJhcg==");
        request.Headers.Add("Cookie", "session=stolen");
        request.Headers.Add("Forwarded", "for=10.9.9.9");
        request.Headers.Add("X-Real-IP", "10.0.0.1");
        request.Headers.Add("True-Client-IP", "10.0.0.2");
        request.Headers.Add("X-HTTP-Method-Override", "DELETE");
        request.Headers.Add("X-Original-URL", "/admin");
        request.Headers.Add("X-Rewrite-URL", "/admin");
        request.Headers.Add("X-Request-Id", "keep-me");

        using var response = await _gateway.Proxy.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = _upstream.Only();
        foreach (var name in new[]
        {
            "X-Forwarded-User", "X-Forwarded-Email", "Remote-User", "X-Auth-Request-Groups", "X-Amzn-Oidc-Identity", "Airlock-Subject",
            "Proxy-Authorization", "Cookie", "Forwarded", "X-Real-IP", "True-Client-IP", "X-HTTP-Method-Override", "X-Original-URL", "X-Rewrite-URL",
        })
        {
            Assert.Null(received.Header(name));
        }

        Assert.Equal("keep-me", received.Header("X-Request-Id"));
    }

    [Fact]
    public async Task X_forwarded_headers_are_set_by_the_gateway_not_passed_on()
    {
        using var request = TestGateway.Get("/billing/x", _key);
        request.Headers.Add("X-Forwarded-For", "203.0.113.66");
        request.Headers.Add("X-Forwarded-Host", "evil.example");
        request.Headers.Add("X-Forwarded-Prefix", "/admin");

        using var response = await _gateway.Proxy.SendAsync(request);

        var received = _upstream.Only();
        Assert.Equal("127.0.0.1", received.Header("X-Forwarded-For"));
        Assert.Equal("http", received.Header("X-Forwarded-Proto"));
        Assert.Null(received.Header("X-Forwarded-Host"));
        Assert.Equal("/billing", received.Header("X-Forwarded-Prefix"));
        Assert.Equal(_upstream.BaseUri.Authority, received.Header("Host"));
    }

    [Fact]
    public async Task Hop_by_hop_headers_and_those_named_in_Connection_are_dropped()
    {
        using var request = TestGateway.Get("/billing/x", _key);
        request.Headers.Connection.Add("X-Hop-Secret");
        request.Headers.Add("X-Hop-Secret", "do-not-forward");
        request.Headers.Add("Keep-Alive", "timeout=5");
        request.Headers.Add("X-End-To-End", "forward-me");

        using var response = await _gateway.Proxy.SendAsync(request);

        var received = _upstream.Only();
        Assert.Null(received.Header("X-Hop-Secret"));
        Assert.Null(received.Header("Keep-Alive"));
        Assert.Equal("forward-me", received.Header("X-End-To-End"));
    }

    [Fact]
    public async Task Content_headers_named_in_Connection_still_describe_the_body()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/billing/x") { Content = new StringContent("{\"a\":1}") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _key);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Connection.Add("Content-Type");

        using var response = await _gateway.Proxy.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("application/json", _upstream.Only().Header("Content-Type"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_upstream_cannot_set_the_gateways_own_headers()
    {
        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/spoof", _key));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var session = Assert.Single(response.Headers.GetValues("Airlock-Session"));
        Assert.True(Guid.TryParse(session, out _));
        Assert.False(response.Headers.Contains("Airlock-Review"));
    }
}
