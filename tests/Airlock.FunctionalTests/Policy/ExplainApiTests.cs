using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Policy;

/// <summary><c>POST /api/policy/explain</c> on the admin listener, for people with OIDC tokens.</summary>
public sealed class ExplainApiTests : IAsyncLifetime
{
    private OidcProvider _idp = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _idp = await TestServices.Idp;
        _gateway = await TestGateway.StartAsync(new GatewayConfig
        {
            Policy = """
                rules:
                  - { name: reads, when: { methods: [GET] }, action: allow }
                  - { name: big-refunds, when: { methods: [POST], body: { $.amount: { gt: 100 } } }, action: deny }
                """,
            Admin = "  adminGroups: [airlock-admins]\n  auditorGroups: [auditors]",
        }.Connection("billing", new Uri("http://127.0.0.1:9"))
            .Connection("crm", new Uri("http://127.0.0.1:9"), """
                    masking:
                      fields:
                        - { path: "$..ssn" }
                      refuseQueriesOnMaskedFields: true
                """)
            .TrustIssuer(_idp.Issuer));
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private async Task<HttpResponseMessage> ExplainAsync(string? bearer, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/policy/explain") { Content = JsonContent.Create(body) };
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return await _gateway.Admin.SendAsync(request);
    }

    [Theory]
    [InlineData("admin")]
    [InlineData("auditor")]
    public async Task Admins_and_auditors_get_the_decision_and_the_reasons(string person)
    {
        using var response = await ExplainAsync(await _idp.TokenAsync(person),
            new { subject = "key:billing-agent", groups = new[] { "agents" }, method = "POST", path = "/billing/v1/refunds", body = new { amount = 250 } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var explanation = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("deny", (string?)explanation["decision"]);
        Assert.Equal("big-refunds", (string?)explanation["rule"]);
        Assert.Equal(_gateway.Policies.Current.Version, (string?)explanation["policyVersion"]);
        var reads = explanation["rules"]!.AsArray().Single(r => (string?)r!["name"] == "reads")!;
        Assert.False((bool)reads["matched"]!);
        Assert.Equal("methods: POST is not one of GET", (string?)reads["note"]);
    }

    [Fact]
    public async Task A_body_in_another_charset_is_refused_and_an_ambiguous_one_says_why()
    {
        var admin = await _idp.TokenAsync("admin");
        using var utf7 = await ExplainAsync(admin, new
        {
            subject = "key:billing-agent", method = "POST", path = "/billing/v1/refunds",
            headers = new Dictionary<string, string> { ["Content-Type"] = "application/json; charset=utf-7" },
            bodyText = "{\"amount\":50, \"+AGEAbQBvAHUAbgB0-\":150}",
        });
        using var repeated = await ExplainAsync(admin, new { subject = "key:billing-agent", method = "POST", path = "/billing/v1/refunds", bodyText = "{\"amount\":5,\"amount\":5}" });

        var refused = JsonNode.Parse(await utf7.Content.ReadAsStringAsync())!;
        Assert.Equal("refused", (string?)refused["decision"]);
        Assert.Equal("urn:airlock:problem:unsupported-charset", (string?)refused["refusal"]);
        Assert.Contains("utf-7", (string?)refused["summary"], StringComparison.Ordinal);
        var ambiguous = JsonNode.Parse(await repeated.Content.ReadAsStringAsync())!;
        Assert.Equal("deny", (string?)ambiguous["decision"]);
        Assert.Equal("the JSON body repeats a key", (string?)ambiguous["ambiguous"]);
    }

    [Fact]
    public async Task A_question_about_a_masked_value_is_refused_as_the_gateway_refuses_it()
    {
        var admin = await _idp.TokenAsync("admin");
        using var search = await ExplainAsync(admin, new { subject = "key:crm-agent", method = "GET", path = "/crm/customers?ssn_like=%5E1" });
        using var plain = await ExplainAsync(admin, new { subject = "key:crm-agent", method = "GET", path = "/crm/customers?name=Ada" });

        var refused = JsonNode.Parse(await search.Content.ReadAsStringAsync())!;
        Assert.Equal(("refused", "urn:airlock:problem:masked-field-query", "reads"), ((string?)refused["decision"], (string?)refused["refusal"], (string?)refused["rule"]));
        Assert.Contains("'ssn_like' refers to the field 'ssn'", (string?)refused["summary"], StringComparison.Ordinal);
        Assert.Equal("allow", (string?)JsonNode.Parse(await plain.Content.ReadAsStringAsync())!["decision"]);
    }

    [Fact]
    public async Task Someone_without_a_role_is_forbidden()
    {
        using var response = await ExplainAsync(await _idp.TokenAsync("carol"), new { subject = "corp:x", method = "GET", path = "/billing/x" });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("urn:airlock:problem:forbidden", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["type"]);
    }

    [Fact]
    public async Task Agents_and_strangers_are_not_authenticated()
    {
        var key = await _gateway.CreateApiKeyAsync("agent", "airlock-admins");
        using var withKey = await ExplainAsync(key, new { subject = "corp:x", method = "GET", path = "/billing/x" });
        using var anonymous = await ExplainAsync(null, new { subject = "corp:x", method = "GET", path = "/billing/x" });

        Assert.Equal(HttpStatusCode.Unauthorized, withKey.StatusCode);
        Assert.Contains("API keys are for agents", await withKey.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Bearer realm=\"airlock\"", anonymous.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task A_malformed_request_gets_a_clear_problem()
    {
        var token = await _idp.TokenAsync("admin");
        using var missing = await ExplainAsync(token, new { subject = "corp:x" });
        using var badPath = await ExplainAsync(token, new { subject = "corp:x", method = "GET", path = "/billing/../x" });

        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("give at least subject, method and path", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badPath.StatusCode);
        Assert.Contains("traversal", await badPath.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_policy_status_is_readable()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/policy");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await _idp.TokenAsync("auditor"));

        using var response = await _gateway.Admin.SendAsync(request);

        var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(_gateway.Policies.Current.Version, (string?)status["version"]);
        Assert.Equal(2, (int?)status["rules"]);
        Assert.Null(status["lastRejection"]);
    }
}
