using System.Net;
using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Masking;

/// <summary>
/// The reason phrase of an HTTP/1.1 status line is text the upstream chooses, and YARP copies
/// one that is not the standard phrase. An upstream that quotes its request there would hand the
/// agent the credential the gateway injects, and PII in it would pass masking: the gateway
/// answers with the standard phrase for the status, whatever the upstream wrote.
/// </summary>
public sealed class ReasonPhraseTests : IAsyncLifetime
{
    private RawUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _upstream = RawUpstream.Start(socket => RawUpstream.SendAsync(socket,
            $"HTTP/1.1 401 Rejected Bearer {GatewayConfig.UpstreamToken} for ada@example.com\r\n"
            + "Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"));
        _gateway = await TestGateway.StartAsync(new GatewayConfig()
            .Connection("plain", _upstream.BaseUri)
            .Connection("masked", _upstream.BaseUri, "    masking:\n      detectors: [{ detector: all }]"));
        _key = await _gateway.CreateApiKeyAsync("agent");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("masked")]
    public async Task The_upstream_s_reason_phrase_never_reaches_the_agent(string connection)
    {
        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get($"/{connection}/v1/me", _key));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Unauthorized", response.ReasonPhrase);
        Assert.Equal("{}", await response.Content.ReadAsStringAsync());
        var session = await _gateway.SessionAsync(response);
        Assert.Equal(401, session.Status);
    }
}
