using Airlock.Gateway.Configuration;
using Airlock.Gateway.Forwarding;
using Airlock.Gateway.Routing;

namespace Airlock.Gateway.Tests.Forwarding;

public sealed class UpstreamLinksTests : IDisposable
{
    private readonly ConnectionRoute _mounted = Route("http://10.0.0.5:8080/api");
    private readonly ConnectionRoute _bare = Route("http://10.0.0.5:8080/");

    private static ConnectionRoute Route(string upstream) => new(new ConnectionConfig
    {
        Name = "billing",
        Upstream = new Uri(upstream),
        ConnectTimeout = TimeSpan.FromSeconds(5),
        ResponseTimeout = TimeSpan.FromSeconds(30),
        Credential = UpstreamCredential.None,
    });

    public void Dispose()
    {
        _mounted.Dispose();
        _bare.Dispose();
    }

    [Theory]
    [InlineData("/api/refunds/17", "/billing/refunds/17")]
    [InlineData("http://10.0.0.5:8080/api/refunds/17?x=../..#a/../b", "/billing/refunds/17?x=../..#a/../b")]
    [InlineData("/api", "/billing")]
    [InlineData("/api/", "/billing/")]
    [InlineData("/api/caf%C3%A9", "/billing/caf%C3%A9")]
    [InlineData("/api/../admin", null)]
    [InlineData("/api/%2E%2E/admin", null)]
    [InlineData("/api/a/../b", null)]
    [InlineData("/api/./b", null)]
    [InlineData("/api//b", null)]
    [InlineData("/api/a%2fb", null)]
    [InlineData("/api/caf%c3%a9", null)]
    [InlineData("/api/%2561", null)]
    [InlineData("/api/a;x=1", null)]
    public void A_link_under_a_base_path_is_mapped_only_when_canonical_and_on_the_connection(string link, string? expected)
    {
        Assert.Equal(expected, UpstreamLinks.ToGateway(link, _mounted));
    }

    [Theory]
    [InlineData("/refunds/17", "/billing/refunds/17")]
    [InlineData("/../admin/delete-all", null)]
    [InlineData("/%2e%2e/admin", null)]
    [InlineData("http://10.0.0.5:8080/billing/../admin", null)]
    [InlineData("http://10.0.0.5:8080/billing/x", "/billing/x")]
    public void A_link_on_an_upstream_without_a_base_path_is_mapped_only_when_it_stays_on_the_connection(string link, string? expected)
    {
        Assert.Equal(expected, UpstreamLinks.ToGateway(link, _bare));
    }

    [Theory]
    [InlineData("<http://10.0.0.5:8080/api/items?page=2>; rel=\"next\"", "</billing/items?page=2>; rel=\"next\"")]
    [InlineData(" , <http://10.0.0.5:8080/api/a>;rel=next ,, <https://x.example/b>", " , </billing/a>;rel=next ,, <https://x.example/b>")]
    [InlineData("<https://x.example/b>; rel=next", null)]
    [InlineData("<http://10.0.0.5:8080/api/a>; title=\"<http://10.0.0.5:8080/api/b>, \\\"q\\\"\"", "</billing/a>; title=\"<http://10.0.0.5:8080/api/b>, \\\"q\\\"\"")]
    // Not a list of links: left whole.
    [InlineData("http://10.0.0.5:8080/api/a; rel=next", null)]
    [InlineData("<http://10.0.0.5:8080/api/a; rel=next", null)]
    [InlineData("<http://10.0.0.5:8080/api/a>; title=\"open, <http://10.0.0.5:8080/api/b>", null)]
    public void Link_header_targets_are_read_apart_from_their_parameters(string value, string? expected)
    {
        Assert.Equal(expected, UpstreamLinks.RewriteLinkTargets(value, _mounted));
    }
}
