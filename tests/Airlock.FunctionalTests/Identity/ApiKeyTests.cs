using System.Net;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Identity.ApiKeys;
using Microsoft.Extensions.DependencyInjection;

namespace Airlock.FunctionalTests.Identity;

public sealed class ApiKeyTests : IAsyncLifetime
{
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig().Connection("billing", _upstream.BaseUri));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task A_valid_key_is_forwarded_with_the_upstream_credential_instead()
    {
        var key = await _gateway.CreateApiKeyAsync("billing-agent", "agents", "billing");

        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/customers", key));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = _upstream.Only();
        Assert.Equal("Bearer " + GatewayConfig.UpstreamToken, received.Header("Authorization"));
        Assert.DoesNotContain(received.Headers, h => h.Value.Contains(key, StringComparison.Ordinal));
        var session = await _gateway.SessionAsync(response);
        Assert.Equal("key:billing-agent", session.Subject);
        Assert.Equal("apikey", session.AuthMethod);
        Assert.Equal("billing-agent", session.KeyName);
        Assert.Equal(key[4..20], session.KeyId);
        Assert.Equal(["agents", "billing"], session.Groups.ToArray());
    }

    [Fact]
    public async Task A_revoked_key_is_refused()
    {
        var key = await _gateway.CreateApiKeyAsync("old-agent", "agents");
        using (var before = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/x", key)))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        var revoked = await _gateway.Services.GetRequiredService<ApiKeyService>().RevokeAsync("old-agent", CancellationToken.None);
        Assert.NotNull(revoked);

        using var after = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/x", key));
        await AssertUnauthenticatedAsync(after, "the API key has been revoked");
        Assert.Single(_upstream.Received);
    }

    [Fact]
    public async Task An_unknown_key_is_refused()
    {
        var (_, unknown, _) = ApiKeyFormat.Generate();

        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/x", unknown));

        await AssertUnauthenticatedAsync(response, "the API key is not known");
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task A_known_id_with_the_wrong_secret_is_refused()
    {
        var key = await _gateway.CreateApiKeyAsync("agent");
        var forged = key[..^4] + (key[^4..] == "AAAA" ? "BBBB" : "AAAA");

        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/x", forged));

        await AssertUnauthenticatedAsync(response, "the API key is not known");
    }

    [Fact]
    public async Task A_malformed_key_is_refused()
    {
        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/x", "alk_nope"));

        await AssertUnauthenticatedAsync(response, "the API key is malformed");
    }

    [Fact]
    public async Task No_credential_gets_a_bearer_challenge()
    {
        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/x"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer realm=\"airlock\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var session = await _gateway.SessionAsync(response);
        Assert.Equal(401, session.Status);
        Assert.Equal("unauthenticated", session.Error);
        Assert.Null(session.Subject);
    }

    [Fact]
    public async Task Key_names_are_unique_among_active_keys()
    {
        var service = _gateway.Services.GetRequiredService<ApiKeyService>();
        await _gateway.CreateApiKeyAsync("twin");

        var (duplicate, error) = await service.CreateAsync("twin", [], CancellationToken.None);
        Assert.Null(duplicate);
        Assert.Contains("already exists", error, StringComparison.Ordinal);

        await service.RevokeAsync("twin", CancellationToken.None);
        var (replacement, _) = await service.CreateAsync("twin", [], CancellationToken.None);
        Assert.NotNull(replacement);
    }

    internal static async Task AssertUnauthenticatedAsync(HttpResponseMessage response, string detail)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("urn:airlock:problem:unauthenticated", (string?)problem["type"]);
        Assert.Equal(401, (int?)problem["status"]);
        Assert.Equal(detail, (string?)problem["detail"]);
        Assert.Equal(Assert.Single(response.Headers.GetValues("Airlock-Session")), (string?)problem["sessionId"]);
        Assert.Equal($"Bearer realm=\"airlock\", error=\"invalid_token\", error_description=\"{detail}\"", response.Headers.WwwAuthenticate.ToString());
    }
}
