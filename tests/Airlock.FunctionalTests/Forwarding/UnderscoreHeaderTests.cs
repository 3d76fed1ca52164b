using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Storage;

namespace Airlock.FunctionalTests.Forwarding;

/// <summary>
/// CGI-style upstreams (WSGI, PHP, CGI) read a header name with '-' and '_' alike:
/// <c>X_Remote_User</c> reaches them as <c>HTTP_X_REMOTE_USER</c>, the identity claim the
/// gateway strips in its <c>X-Remote-User</c> spelling. The upstream here is Python's wsgiref,
/// which answers with the HTTP_* variables it built.
/// </summary>
public sealed class UnderscoreHeaderTests : IAsyncLifetime
{
    private const string Policy = """
        rules:
          - { name: anything, action: allow }
          - name: no-admin-override
            when: { headers: { X-Remote-User: { exists: true } } }
            action: deny
          - name: no-underscore-user
            when: { headers: { X_Remote_User: { exists: true } } }
            action: deny
        """;

    private ProcessUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _upstream = await ProcessUpstream.WsgiAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig { Policy = Policy }
            .Connection("wsgi", _upstream.BaseUri)
            .Connection("strict", _upstream.BaseUri, "    headersWithUnderscores: refuse"));
        _key = await _gateway.CreateApiKeyAsync("agent", "agents");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private async Task<HttpResponseMessage> SendAsync(string path, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _key);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await _gateway.Proxy.SendAsync(request);
    }

    [Theory]
    [InlineData("X_Remote_User", "admin", "HTTP_X_REMOTE_USER")]
    [InlineData("X_HTTP_Method_Override", "DELETE", "HTTP_X_HTTP_METHOD_OVERRIDE")]
    [InlineData("X_Original_URL", "/admin/users", "HTTP_X_ORIGINAL_URL")]
    [InlineData("x_forwarded_for", "10.9.9.9", "HTTP_X_FORWARDED_FOR")]
    [InlineData("X.Remote.User", "admin", "HTTP_X_REMOTE_USER")]
    public async Task A_header_an_upstream_reads_as_another_never_reaches_it(string name, string value, string variable)
    {
        using var response = await SendAsync("/wsgi/whoami", (name, value));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var environ = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        // X-Forwarded-For is the gateway's own; the caller's value must not be in it, nor
        // anywhere else (older Apache and PHP map '.' to '_' too; wsgiref keeps it).
        Assert.DoesNotContain(value, (string?)environ[variable] ?? "", StringComparison.Ordinal);
        Assert.DoesNotContain(environ, v => ((string?)v.Value ?? "").Contains(value, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Such_a_header_is_dropped_before_policy_and_the_rest_is_forwarded()
    {
        // Dropped before policy, which therefore judges the request the upstream gets: the rule
        // on the underscore spelling would deny the request had policy seen the header.
        using var response = await SendAsync("/wsgi/whoami", ("X_Remote_User", "admin"), ("X-Team", "billing"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("allow", (await _gateway.SessionAsync(response)).Decision);
        var environ = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal("billing", (string?)environ["HTTP_X_TEAM"]);
        Assert.False(environ.ContainsKey("HTTP_X_REMOTE_USER"));
    }

    [Fact]
    public async Task A_connection_may_refuse_such_headers_instead()
    {
        using var response = await SendAsync("/strict/whoami", ("X_Remote_User", "admin"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("urn:airlock:problem:ambiguous-header-name", (string?)problem["type"]);
        Assert.Equal("X_Remote_User", (string?)problem["header"]);
        Assert.Equal("ambiguous-header-name", (await _gateway.SessionAsync(response)).Error);
        // A known caller's refusal is on the trail before it is answered.
        var events = await _gateway.Store.QueryAuditEventsAsync(new AuditQuery(Limit: 100), CancellationToken.None);
        var refused = Assert.Single(events, e => e.Kind == "request.refused");
        Assert.Equal(("ambiguous-header-name", "400"), (refused.Detail["problem"], refused.Detail["status"]));
    }

    [Fact]
    public async Task Ordinary_headers_pass_on_a_refusing_connection()
    {
        using var response = await SendAsync("/strict/whoami", ("X-Team", "billing"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("billing", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["HTTP_X_TEAM"]);
    }
}
