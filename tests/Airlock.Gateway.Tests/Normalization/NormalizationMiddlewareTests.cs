using Airlock.Gateway.Normalization;

namespace Airlock.Gateway.Tests.Normalization;

/// <summary>
/// The first stage after the session opens: the raw target the client sent is put in its one
/// canonical form, or the request is refused with 400 and nothing after this stage sees it
/// (docs/normalization.md); methods that two servers read two ways are refused too. Real
/// Kestrel: the raw target is what it hands on, not what a DefaultHttpContext would be given.
/// </summary>
public sealed class NormalizationMiddlewareTests : IAsyncLifetime
{
    private FrontStagesHost _host = null!;

    public async ValueTask InitializeAsync() => _host = await FrontStagesHost.StartAsync();

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [InlineData("/billing/v1/%2e%2e/%61dmin?limit=5&x=%2F", "/billing/admin", "limit=5&x=%2F")]
    [InlineData("//billing//v1///customers", "/billing/v1/customers", null)]
    [InlineData("/billing/a%20b/caf%c3%a9?", "/billing/a%20b/caf%C3%A9", "")]
    public async Task What_comes_after_sees_only_the_canonical_target(string target, string path, string? query)
    {
        var answer = await _host.SendAsync("GET", target);

        Assert.Equal(200, answer.Status);
        Assert.Equal(path, answer.Handed.Path);
        Assert.Equal(query, answer.Handed.Query);
    }

    [Theory]
    [InlineData("/billing/a%2Fb", "encoded-separator")]
    [InlineData("/billing/v1\\..\\admin", "backslash")]
    [InlineData("/billing/x?a=%00", "nul")]
    [InlineData("/billing/v1/%7F", "invalid-character")]
    [InlineData("/billing/v1/%0d%0aX-Injected:%20yes", "invalid-character")]
    [InlineData("/billing/v1/%C0%AF", "invalid-utf8")]
    [InlineData("/billing/%zz", "invalid-percent-encoding")]
    [InlineData("/billing/../admin/x", "traversal")]
    [InlineData("/billing/v1#frag", "fragment")]
    [InlineData("/billing/x;a/..;/admin", "path-parameter")]
    [InlineData("/billing/%252e%252e/admin", "double-encoding")]
    [InlineData("*", "not-origin-form")]
    public async Task An_ambiguous_target_is_refused_with_its_reason_and_goes_no_further(string target, string reason)
    {
        var answer = await _host.SendAsync(target == "*" ? "OPTIONS" : "GET", target);

        Assert.Equal(400, answer.Status);
        Assert.Equal("application/problem+json", answer.Headers["Content-Type"]);
        var problem = answer.Problem;
        Assert.Equal("urn:airlock:problem:invalid-request-target", problem.GetProperty("type").GetString());
        Assert.Equal(reason, problem.GetProperty("reason").GetString());
        Assert.Equal(_host.LastSession!.Id.ToString(), problem.GetProperty("sessionId").GetString());
        Assert.Equal(0, _host.Passed);
        Assert.Equal("invalid-request-target", _host.LastSession.Error);

        // Nobody is known yet: the refusal is counted on the audit trail under its reason.
        var count = Assert.Single(await _host.RefusalCountsAsync());
        Assert.Equal(("invalid-request-target", reason, "1", "400"),
            (count.Detail["problem"], count.Detail["reason"], count.Detail["count"], count.Detail["status"]));
    }

    [Fact]
    public async Task An_absolute_form_target_is_refused_even_for_the_gateways_own_host()
    {
        // Kestrel passes an absolute-form target on when its authority is the Host header's.
        var answer = await _host.SendAsync("GET", "http://gateway.test/billing/x", "Host: gateway.test");

        Assert.Equal(400, answer.Status);
        Assert.Equal("not-origin-form", answer.Problem.GetProperty("reason").GetString());
        Assert.Equal(0, _host.Passed);
    }

    [Fact]
    public async Task Each_reason_explains_itself_in_its_own_words()
    {
        string[] targets = ["/billing/a%2Fb", "/billing/v1\\x", "/billing/x?a=%00", "/billing/v1/%7F", "/billing/v1/%C0%AF", "/billing/%zz",
            "/billing/../admin/x", "/billing/v1#frag", "/billing/x;a", "/billing/%252e", "*"];
        var details = new List<string>();
        foreach (var target in targets)
        {
            var answer = await _host.SendAsync(target == "*" ? "OPTIONS" : "GET", target);
            var detail = answer.Problem.GetProperty("detail").GetString()!;
            Assert.False(string.IsNullOrWhiteSpace(detail), target);
            Assert.NotEqual("the request target is not acceptable", detail);
            details.Add(detail);
        }

        Assert.Equal(details.Count, details.Distinct().Count());
    }

    [Fact]
    public void Every_reason_has_its_documented_name()
    {
        var docs = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "normalization.md"));
        var names = Enum.GetValues<NormalizationError>().Where(e => e != NormalizationError.None)
            .Select(NormalizationMiddleware.ReasonName).ToList();

        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.All(names, name => Assert.Contains($"| `{name}` |", docs, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("get", "not-upper-case")]
    [InlineData("Delete", "not-upper-case")]
    [InlineData("PATCH1", "not-upper-case")]
    public async Task A_method_not_in_upper_case_is_refused(string method, string reason)
    {
        var answer = await _host.SendAsync(method, "/billing/x");

        Assert.Equal(400, answer.Status);
        Assert.Equal("urn:airlock:problem:invalid-method", answer.Problem.GetProperty("type").GetString());
        Assert.Contains(method, answer.Problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, _host.Passed);
        Assert.Equal("invalid-method", _host.LastSession!.Error);
        var count = Assert.Single(await _host.RefusalCountsAsync());
        Assert.Equal(("invalid-method", reason), (count.Detail["problem"], count.Detail["reason"]));
    }

    [Theory]
    [InlineData("M-SEARCH")]
    [InlineData("X_PURGE")]
    [InlineData("DELETE")]
    public async Task Upper_case_methods_with_dashes_and_underscores_pass(string method)
    {
        var answer = await _host.SendAsync(method, "/billing/x");

        Assert.Equal(200, answer.Status);
        Assert.Equal(1, _host.Passed);
    }

    [Fact]
    public async Task A_connect_tunnel_is_refused()
    {
        var answer = await _host.SendAsync("CONNECT", "upstream.test:443", "Host: upstream.test:443");

        Assert.Equal(400, answer.Status);
        Assert.Equal("urn:airlock:problem:invalid-method", answer.Problem.GetProperty("type").GetString());
        Assert.Contains("CONNECT", answer.Problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, _host.Passed);
        Assert.Equal("connect", Assert.Single(await _host.RefusalCountsAsync()).Detail["reason"]);
    }

    [Fact]
    public async Task A_websocket_upgrade_is_refused()
    {
        var answer = await _host.SendAsync("GET", "/billing/socket",
            "Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==");

        Assert.Equal(400, answer.Status);
        Assert.Equal("urn:airlock:problem:invalid-method", answer.Problem.GetProperty("type").GetString());
        Assert.Contains("upgrade", answer.Problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, _host.Passed);
        Assert.Equal("upgrade", Assert.Single(await _host.RefusalCountsAsync()).Detail["reason"]);
    }

    [Fact]
    public async Task Headers_the_caller_names_in_connection_are_gone_before_policy_but_content_headers_stay()
    {
        // Without close, keep-alive or upgrade among them: Kestrel hands on only that token of
        // a list that holds one.
        var answer = await _host.SendAsync("GET", "/billing/x",
            "Connection: X-Tenant, content-type, Content-Language, connection",
            "X-Tenant: acme", "X-Kept: yes", "Content-Type: application/json", "Content-Language: en");

        Assert.Equal(200, answer.Status);
        var headers = answer.Handed.Headers;
        Assert.DoesNotContain("X-Tenant", headers);
        Assert.Contains("X-Kept", headers);
        Assert.Contains("Content-Type", headers);
        Assert.Contains("Content-Language", headers);
        Assert.Contains("Connection", headers);
    }

    [Fact]
    public async Task A_request_without_a_connection_header_keeps_all_its_headers()
    {
        var answer = await _host.SendWithoutConnectionHeaderAsync("GET", "/billing/x", "X-Tenant: acme", "Content-Type: application/json");

        Assert.Equal(200, answer.Status);
        Assert.Equal(["Content-Type", "Host", "X-Tenant"], answer.Handed.Headers);
    }

    [Fact]
    public void A_reason_without_words_of_its_own_is_still_named_and_explained()
    {
        // Every reason Normalize gives has its own (above); one added without them must still
        // be refused with a name for the audit trail and a sentence for the caller.
        var unnamed = (NormalizationError)int.MaxValue;

        Assert.False(Enum.IsDefined(unnamed));
        Assert.Equal("unknown", NormalizationMiddleware.ReasonName(unnamed));
        Assert.Equal("the request target is not acceptable", NormalizationMiddleware.Describe(unnamed));
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Airlock.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("no Airlock.slnx above the test output");
    }
}
