using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Normalization;

/// <summary>
/// Path tricks sent byte for byte over a socket: each is normalised to one form, and what the
/// upstream receives is exactly that form; or it is refused with 400 (docs/normalization.md).
/// </summary>
public sealed class RequestTargetTests : IAsyncLifetime
{
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig()
            .Connection("billing", new Uri(_upstream.BaseUri, "/base"))
            .Connection("admin", _upstream.BaseUri));
        _key = await _gateway.CreateApiKeyAsync("agent");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Theory]
    [InlineData("/billing/v1/../admin", "/base/admin")]
    [InlineData("/billing/v1/%2e%2e/admin", "/base/admin")]
    [InlineData("/billing/v1/%2E%2e/%61dmin", "/base/admin")]
    [InlineData("/billing//v1///customers", "/base/v1/customers")]
    [InlineData("//billing/v1", "/base/v1")]
    [InlineData("/billing/./v1/./x/", "/base/v1/x/")]
    [InlineData("/billing/a%20b/caf%c3%a9", "/base/a%20b/caf%C3%A9")]
    [InlineData("/billing/v1?next=/a/../b&x=%2F", "/base/v1?next=/a/../b&x=%2F")]
    [InlineData("/billing", "/base")]
    public async Task Path_tricks_are_normalised_and_the_upstream_gets_the_normal_form(string target, string upstreamTarget)
    {
        var response = await RawHttp.SendAsync(_gateway.ProxyUri, target, _key);

        Assert.Equal(200, response.Status);
        Assert.Equal(upstreamTarget, _upstream.Only().RawTarget);
    }

    [Theory]
    [InlineData("/billing/v1/%2Fadmin", "encoded-separator")]
    [InlineData("/billing/v1/%2fadmin", "encoded-separator")]
    [InlineData("/billing/v1/..%5Cadmin", "encoded-separator")]
    [InlineData("/billing/v1\\..\\admin", "backslash")]
    [InlineData("/billing/v1/%C0%AF", "invalid-utf8")]
    [InlineData("/billing/v1/%C0%AE%C0%AE/admin", "invalid-utf8")]
    [InlineData("/billing/v1/%E0%80%AE", "invalid-utf8")]
    [InlineData("/billing/v1/%zz", "invalid-percent-encoding")]
    [InlineData("/billing/../admin/x", "traversal")]
    [InlineData("/billing/%2e%2e/admin/x", "traversal")]
    [InlineData("/billing/v1/%0d%0aX-Injected:%20yes", "invalid-character")]
    [InlineData("/billing/v1;a/..;/admin", "path-parameter")]
    [InlineData("/billing/%252e%252e/admin", "double-encoding")]
    public async Task Ambiguous_targets_are_refused_before_anything_else(string target, string reason)
    {
        var response = await RawHttp.SendAsync(_gateway.ProxyUri, target, _key);

        Assert.Equal(400, response.Status);
        Assert.Equal("application/problem+json", response.Headers["Content-Type"]);
        Assert.Contains("\"type\":\"urn:airlock:problem:invalid-request-target\"", response.Body, StringComparison.Ordinal);
        Assert.Contains($"\"reason\":\"{reason}\"", response.Body, StringComparison.Ordinal);
        Assert.Empty(_upstream.Received);
    }

    [Theory]
    [InlineData("/billing/v1/%00")]
    [InlineData("/billing/v1/\u0001")]
    [InlineData("/billing/v1/a b")]
    public async Task Targets_the_http_parser_cannot_accept_are_refused_by_kestrel_itself(string target)
    {
        // Kestrel answers these with a bare 400 before any middleware runs (docs/normalization.md).
        var response = await RawHttp.SendAsync(_gateway.ProxyUri, System.Text.RegularExpressions.Regex.Unescape(target), _key);

        Assert.Equal(400, response.Status);
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task An_absolute_form_target_is_refused()
    {
        var response = await RawHttp.SendAsync(_gateway.ProxyUri, $"http://{_gateway.ProxyUri.Authority}/billing/x", _key);

        Assert.Equal(400, response.Status);
        Assert.Contains("\"reason\":\"not-origin-form\"", response.Body, StringComparison.Ordinal);
        Assert.Empty(_upstream.Received);
    }
}
