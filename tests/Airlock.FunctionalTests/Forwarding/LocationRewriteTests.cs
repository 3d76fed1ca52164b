using System.Net;
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
        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get($"{path}?location={Uri.EscapeDataString(location)}", _key));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (response.Headers.GetValues("Location").Single(), response.Content.Headers.GetValues("Content-Location").Single());
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

    [Fact]
    public async Task What_the_upstream_put_in_a_link_is_still_masked()
    {
        var (own, _) = await CreatedAsync("/billing/v1/created", Upstream("/v1/customers/ada@example.com/orders"));
        var (external, _) = await CreatedAsync("/billing/v1/created", "https://files.example.com/export?owner=ada@example.com&from=10.1.2.3");

        Assert.Equal("/billing/v1/customers/[REDACTED:EMAIL]/orders", own);
        Assert.Equal("https://files.example.com/export?owner=[REDACTED:EMAIL]&from=[REDACTED:IPV4]", external);
    }
}
