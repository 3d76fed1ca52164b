using System.Net;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Admin;

/// <summary>What the admin listener's 401 tells a person to send: what it accepts, and only that.</summary>
public sealed class AdminAuthenticationTests
{
    private static async Task<(HttpStatusCode Status, string Detail)> ProblemAsync(HttpResponseMessage response)
    {
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("urn:airlock:problem:unauthenticated", (string?)problem["type"]);
        return (response.StatusCode, (string)problem["detail"]!);
    }

    [Fact]
    public async Task Without_a_credential_the_admin_api_asks_for_an_access_token_from_the_configured_issuer_not_an_api_key()
    {
        var idp = await TestServices.Idp;
        await using var gateway = await TestGateway.StartAsync(new GatewayConfig().Connection("billing", new Uri("http://127.0.0.1:9")).TrustIssuer(idp.Issuer));
        var key = await gateway.CreateApiKeyAsync("agent", "airlock-admins");

        var (status, detail) = await ProblemAsync(await gateway.Admin.GetAsync("/api/reviews"));
        var (keyStatus, keyDetail) = await ProblemAsync(await gateway.AdminAsync(HttpMethod.Get, "/api/reviews", key));
        var (proxyStatus, proxyDetail) = await ProblemAsync(await gateway.Proxy.GetAsync("/billing/x"));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal($"the admin API is for people: send Authorization: Bearer <access token> from {idp.Issuer} (API keys are for agents, on the proxy listener)", detail);
        Assert.Equal(HttpStatusCode.Unauthorized, keyStatus);
        Assert.Equal("API keys are for agents, on the proxy listener; the admin API needs a person's OIDC access token", keyDetail);
        // Agents, on the proxy listener, may bring either.
        Assert.Equal(HttpStatusCode.Unauthorized, proxyStatus);
        Assert.Equal("this gateway needs a credential: send Authorization: Bearer <API key or access token>", proxyDetail);
    }

    [Fact]
    public async Task Without_an_oidc_issuer_the_admin_api_says_that_nobody_can_sign_in_and_the_proxy_asks_for_an_api_key()
    {
        await using var gateway = await TestGateway.StartAsync(new GatewayConfig().Connection("billing", new Uri("http://127.0.0.1:9")));

        var (status, detail) = await ProblemAsync(await gateway.Admin.GetAsync("/api/reviews"));
        var (_, proxyDetail) = await ProblemAsync(await gateway.Proxy.GetAsync("/billing/x"));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("the admin API is for people with an OIDC access token, and no OIDC issuer is configured (identity.oidc)", detail);
        Assert.Equal("this gateway needs a credential: send Authorization: Bearer <API key>", proxyDetail);
    }
}
