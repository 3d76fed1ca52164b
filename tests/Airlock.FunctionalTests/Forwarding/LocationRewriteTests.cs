using Airlock.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Airlock.FunctionalTests.Forwarding;

/// <summary>
/// Links an upstream gives to itself (<c>Location</c>, <c>Content-Location</c>) come back as the
/// gateway's own <c>/&lt;connection&gt;/…</c> path, which the agent can follow; masking does not
/// rewrite the upstream's address into something unusable, and still masks what the upstream put
/// in a link.
/// </summary>
public sealed class LocationRewriteTests : IAsyncLifetime
{
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _upstream.Routes["/created"] = async context =>
        {
            context.Response.StatusCode = StatusCodes.Status201Created;
            context.Response.Headers.Location = context.Request.Query["location"].ToString();
            context.Response.Headers.ContentLocation = context.Request.Query["location"].ToString();
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{\"id\":17}");
        };
        _upstream.Routes["/items"] = async context =>
        {
            context.Response.Headers.Link = context.Request.Query["link"].ToString();
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("[]");
        };
        _gateway = await TestGateway.StartAsync(new GatewayConfig()
            .Connection("billing", _upstream.BaseUri, "    masking:\n      detectors: [{ detector: all }]")
            .Connection("mounted", new Uri(_upstream.BaseUri, "/api")));
        _key = await _gateway.CreateApiKeyAsync("agent");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private async Task<(string Location, string ContentLocation)> CreatedAsync(string path, string location)
    {
        // Read as sent: HttpClient parses these headers as URIs and would resolve their dot segments.
        var response = await RawHttp.SendAsync(_gateway.ProxyUri, $"{path}?location={Uri.EscapeDataString(location)}", _key);
        Assert.Equal(StatusCodes.Status201Created, response.Status);
        return (response.Headers["Location"], response.Headers["Content-Location"]);
    }

    private string Upstream(string pathAndQuery) => $"http://{_upstream.BaseUri.Authority}{pathAndQuery}";

    [Theory]
    [InlineData("/v1/refunds/17", "/billing/v1/refunds/17")]
    [InlineData("/v1/refunds/17?expand=lines#top", "/billing/v1/refunds/17?expand=lines#top")]
    [InlineData("", "/billing")]
    public async Task An_absolute_link_to_the_upstream_becomes_the_gateway_path_even_with_every_detector_on(string upstreamPath, string expected)
    {
        var (location, contentLocation) = await CreatedAsync("/billing/v1/created", Upstream(upstreamPath));

        Assert.Equal(expected, location);
        Assert.Equal(expected, contentLocation);
    }

    [Theory]
    [InlineData("/v1/refunds/17", "/billing/v1/refunds/17")]
    // An upstream that built the link from X-Forwarded-Prefix already has the gateway's path.
    [InlineData("/billing/v1/refunds/17", "/billing/v1/refunds/17")]
    // A relative path reference resolves against the gateway's URL as it would against the upstream's.
    [InlineData("refunds/17", "refunds/17")]
    public async Task A_relative_link_is_mapped_onto_the_connection(string upstreamLocation, string expected)
    {
        var (location, _) = await CreatedAsync("/billing/v1/created", upstreamLocation);

        Assert.Equal(expected, location);
    }

    [Theory]
    [InlineData("/api/v1/refunds/17", "/mounted/v1/refunds/17")]
    [InlineData("{upstream}/api/v1/refunds/17", "/mounted/v1/refunds/17")]
    [InlineData("{upstream}/API/v1/refunds/17", "{upstream}/API/v1/refunds/17")]
    [InlineData("/apiary/17", "/apiary/17")]
    [InlineData("{upstream}/other/17", "{upstream}/other/17")]
    public async Task Under_a_base_path_only_links_below_it_are_mapped(string upstreamLocation, string expected)
    {
        var (location, _) = await CreatedAsync("/mounted/v1/created", upstreamLocation.Replace("{upstream}", Upstream(""), StringComparison.Ordinal));

        Assert.Equal(expected.Replace("{upstream}", Upstream(""), StringComparison.Ordinal), location);
    }

    [Theory]
    // A dot segment that climbs out of the connection: the agent's client would resolve the
    // mapped link to another connection's path (/admin/delete-all).
    [InlineData("/billing/v1/created", "/../admin/delete-all")]
    [InlineData("/billing/v1/created", "/v1/../../admin/delete-all")]
    [InlineData("/billing/v1/created", "/%2e%2e/admin/delete-all")]
    [InlineData("/billing/v1/created", "/v1/%2E%2E/%2E%2E/admin")]
    [InlineData("/mounted/v1/created", "/api/../../other")]
    [InlineData("/mounted/v1/created", "/api/%2e%2e/%2e%2e/other")]
    [InlineData("/mounted/v1/created", "/api/..")]
    // Not the canonical form of a path on the connection: left for the agent's client to read.
    [InlineData("/mounted/v1/created", "/api/v1/./refunds")]
    [InlineData("/mounted/v1/created", "/api//v1/refunds")]
    [InlineData("/mounted/v1/created", "/api/v1/%2Frefunds")]
    public async Task A_link_whose_path_would_leave_the_connection_or_is_not_canonical_is_not_mapped(string path, string upstreamLocation)
    {
        var (location, contentLocation) = await CreatedAsync(path, upstreamLocation);

        Assert.Equal(upstreamLocation, location);
        Assert.Equal(upstreamLocation, contentLocation);
    }

    [Fact]
    public async Task An_absolute_link_that_leaves_the_connection_keeps_the_upstream_s_address_and_is_masked_as_any_header()
    {
        var (billing, _) = await CreatedAsync("/billing/v1/created", Upstream("/billing/../admin/delete-all"));
        var (mounted, _) = await CreatedAsync("/mounted/v1/created", Upstream("/api/%2e%2e/other"));

        Assert.Equal($"http://[REDACTED:IPV4]:{_upstream.BaseUri.Port}/billing/../admin/delete-all", billing);
        Assert.Equal(Upstream("/api/%2e%2e/other"), mounted);
    }

    private async Task<string> LinkAsync(string path, string link)
    {
        var response = await RawHttp.SendAsync(_gateway.ProxyUri, $"{path}?link={Uri.EscapeDataString(link)}", _key);
        Assert.Equal(StatusCodes.Status200OK, response.Status);
        return response.Headers["Link"];
    }

    [Theory]
    // RFC 8288 pagination: every target that is the upstream is the gateway's path, the parameters as sent.
    [InlineData("/billing/v1/items", "<{upstream}/v1/items?page=2>; rel=\"next\", <{upstream}/v1/items?page=9>; rel=\"last\"",
        "</billing/v1/items?page=2>; rel=\"next\", </billing/v1/items?page=9>; rel=\"last\"")]
    [InlineData("/mounted/v1/items", "<{upstream}/api/v1/items?page=2>;rel=next,</api/v1/items?page=1>; rel=prev",
        "</mounted/v1/items?page=2>;rel=next,</mounted/v1/items?page=1>; rel=prev")]
    // A quoted parameter may hold ',', ';', '<' and '>': only link targets are read as links.
    [InlineData("/mounted/v1/items", "<{upstream}/api/a>; title=\"x, <{upstream}/api/b>; y\\\"\", <https://elsewhere.example/c>; rel=alternate",
        "</mounted/a>; title=\"x, <{upstream}/api/b>; y\\\"\", <https://elsewhere.example/c>; rel=alternate")]
    // Outside the connection, or not canonical: as sent.
    [InlineData("/mounted/v1/items", "<{upstream}/api/../other>; rel=up, </other>; rel=help", "<{upstream}/api/../other>; rel=up, </other>; rel=help")]
    public async Task Link_header_targets_to_the_upstream_become_the_gateway_path(string path, string upstreamLink, string expected)
    {
        var link = await LinkAsync(path, upstreamLink.Replace("{upstream}", Upstream(""), StringComparison.Ordinal));

        Assert.Equal(expected.Replace("{upstream}", Upstream(""), StringComparison.Ordinal), link);
    }

    [Fact]
    public async Task A_link_header_target_elsewhere_is_masked_as_any_header()
    {
        var link = await LinkAsync("/billing/v1/items", "<https://files.example.com/export?owner=ada@example.com>; rel=\"export\", <" + Upstream("/v1/items?page=2") + ">; rel=next");

        Assert.Equal("<https://files.example.com/export?owner=[REDACTED:EMAIL]>; rel=\"export\", </billing/v1/items?page=2>; rel=next", link);
    }

    [Fact]
    public async Task What_the_upstream_put_in_a_link_is_still_masked()
    {
        var (own, _) = await CreatedAsync("/billing/v1/created", Upstream("/v1/customers/ada@example.com/orders"));
        var (external, _) = await CreatedAsync("/billing/v1/created", "https://files.example.com/export?owner=ada@example.com&from=10.1.2.3");

        Assert.Equal("/billing/v1/customers/[REDACTED:EMAIL]/orders", own);
        Assert.Equal("https://files.example.com/export?owner=[REDACTED:EMAIL]&from=[REDACTED:IPV4]", external);
    }
}
