using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Airlock.Cli;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;

namespace Airlock.FunctionalTests.Policy;

/// <summary>
/// A deny or review rule also applies to a request that cannot be read one way only (ambiguity
/// counts against it). The answer then says so, and why, rather than the rule's message: an agent
/// whose small form-encoded refund was refused must not be told it asked for a large one.
/// </summary>
public sealed class AmbiguousRequestTests : IAsyncLifetime
{
    private const string Policy = """
        rules:
          - name: small-refunds
            when: { methods: [POST], paths: [/billing/refunds], body: { $.amount: { lte: 100 } } }
            action: allow
          - name: large-refunds
            when: { methods: [POST], paths: [/billing/refunds], body: { $.amount: { gt: 100 } } }
            action: deny
            message: Refunds over 100 need a person.
          - name: small-credits
            when: { methods: [POST], paths: [/billing/credits], body: { $.amount: { lte: 100 } } }
            action: allow
          - name: large-credits
            when: { methods: [POST], paths: [/billing/credits], body: { $.amount: { gt: 100 } } }
            action: review
            review: { approvers: [finance-approvers] }
          - name: exports
            when: { methods: [GET], paths: [/billing/exports], query: { limit: { lte: 100 } } }
            action: allow
          - name: bulk-exports
            when: { methods: [GET], paths: [/billing/exports], query: { limit: { gt: 100 } } }
            action: deny
            message: Bulk exports are not allowed.
        """;

    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig { Policy = Policy }.Connection("billing", _upstream.BaseUri));
        _key = await _gateway.CreateApiKeyAsync("agent", "agents");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body = null, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _key);
        request.Headers.Add("Prefer", "respond-async");
        return _gateway.Proxy.SendAsync(request);
    }

    private static async Task<JsonNode> DeniedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("urn:airlock:problem:denied", (string?)problem["type"]);
        return problem;
    }

    [Fact]
    public async Task A_form_encoded_refund_is_told_its_body_could_not_be_read_not_that_it_is_large()
    {
        using var response = await SendAsync(HttpMethod.Post, "/billing/refunds", "amount=50", "application/x-www-form-urlencoded");

        var problem = await DeniedAsync(response);
        Assert.Equal("large-refunds", (string?)problem["rule"]);
        var detail = (string?)problem["detail"];
        Assert.DoesNotContain("over 100", detail, StringComparison.Ordinal);
        Assert.Contains("could not be read one way", detail, StringComparison.Ordinal);
        Assert.Contains("form-encoded", (string?)problem["ambiguous"], StringComparison.Ordinal);
        Assert.Empty(_upstream.Received);

        var session = await _gateway.SessionAsync(response);
        var events = await _gateway.Store.QueryAuditEventsAsync(new Gateway.Storage.AuditQuery(), CancellationToken.None);
        var denied = Assert.Single(events, e => e.SessionId == session.Id);
        Assert.Equal(AuditKinds.RequestDenied, denied.Kind);
        Assert.Contains("form-encoded", denied.Detail["ambiguous"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_json_body_with_a_repeated_key_is_told_it_repeats_a_key()
    {
        using var response = await SendAsync(HttpMethod.Post, "/billing/refunds", "{\"amount\":50,\"amount\":50}");

        var problem = await DeniedAsync(response);
        Assert.Equal("the JSON body repeats a key", (string?)problem["ambiguous"]);
        Assert.DoesNotContain("over 100", (string?)problem["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_query_parameter_given_twice_is_told_which_parameter()
    {
        using var response = await SendAsync(HttpMethod.Get, "/billing/exports?limit=50&limit=500");

        var problem = await DeniedAsync(response);
        Assert.Equal("bulk-exports", (string?)problem["rule"]);
        Assert.Contains("query parameter 'limit'", (string?)problem["ambiguous"], StringComparison.Ordinal);
        Assert.DoesNotContain("Bulk exports", (string?)problem["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_that_is_what_the_rule_is_about_keeps_the_rules_message()
    {
        using var response = await SendAsync(HttpMethod.Post, "/billing/refunds", "{\"amount\":500}");

        var problem = await DeniedAsync(response);
        Assert.Equal("Refunds over 100 need a person.", (string?)problem["detail"]);
        Assert.Null(problem["ambiguous"]);
    }

    [Fact]
    public async Task A_held_request_tells_the_agent_and_the_approver_why_it_was_held()
    {
        using var response = await SendAsync(HttpMethod.Post, "/billing/credits", "amount=50", "application/x-www-form-urlencoded");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Contains("form-encoded", (string?)accepted["ambiguous"], StringComparison.Ordinal);

        // What the approver sees (GET /api/reviews/{id}, airlock reviews show) comes from the stored review.
        var review = (await _gateway.Store.GetReviewAsync(Guid.Parse((string)accepted["reviewId"]!), CancellationToken.None))!;
        Assert.Contains("form-encoded", review.Ambiguous, StringComparison.Ordinal);
        Assert.Equal(review.Ambiguous, Gateway.Reviews.ReviewView.Of(review, null).Ambiguous);
        var events = await _gateway.Store.QueryAuditEventsAsync(new Gateway.Storage.AuditQuery(), CancellationToken.None);
        var opened = Assert.Single(events, e => e.Kind == AuditKinds.ReviewOpened);
        Assert.Equal(review.Ambiguous, opened.Detail["ambiguous"]);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task The_approver_reading_the_review_sees_why_it_was_held(string store)
    {
        var idp = await TestServices.Idp;
        var config = new GatewayConfig { Policy = Policy }.Connection("billing", _upstream.BaseUri).TrustIssuer(idp.Issuer);
        if (store == "postgres")
        {
            config.Postgres(await (await TestServices.Postgres).CreateDatabaseAsync());
        }

        await using var gateway = await TestGateway.StartAsync(config);
        var request = new HttpRequestMessage(HttpMethod.Post, "/billing/credits") { Content = new StringContent("{\"amount\":5,\"amount\":5}", Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await gateway.CreateApiKeyAsync("agent", "agents"));
        request.Headers.Add("Prefer", "respond-async");
        using var accepted = await gateway.Proxy.SendAsync(request);
        var id = (string)JsonNode.Parse(await accepted.Content.ReadAsStringAsync())!["reviewId"]!;
        var stdout = new StringWriter();

        var exit = await AirlockCli.RunAsync(["reviews", "show", id, "--admin-url", gateway.AdminUri.ToString(), "--token", await idp.TokenAsync("alice")], stdout, new StringWriter());

        Assert.Equal(0, exit);
        Assert.Contains("ambiguous: held only because the request could not be read one way: the JSON body repeats a key", stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_held_request_that_is_what_the_rule_is_about_says_nothing_of_ambiguity()
    {
        using var response = await SendAsync(HttpMethod.Post, "/billing/credits", "{\"amount\":500}");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Null(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["ambiguous"]);
        Assert.Null((await _gateway.PendingReviewAsync()).Ambiguous);
    }

    [Fact]
    public async Task Policy_test_says_the_rule_holds_only_because_the_body_is_ambiguous()
    {
        var directory = Directory.CreateTempSubdirectory("airlock-ambiguous-cli-").FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "policy.yaml"), Policy);
        var config = Path.Combine(directory, "airlock.yaml");
        await File.WriteAllTextAsync(config, new GatewayConfig().Connection("billing", new Uri("http://127.0.0.1:9")).ToYaml());
        var stdout = new StringWriter();

        var exit = await AirlockCli.RunAsync(["policy", "test", "--config", config, "--as", "key:agent", "--method", "POST", "--path", "/billing/refunds",
            "--body", "{\"amount\":50,\"amount\":50}"], stdout, new StringWriter());

        Assert.Equal(0, exit);
        Assert.Contains("decision: deny", stdout.ToString(), StringComparison.Ordinal);
        Assert.Contains("ambiguous: the JSON body repeats a key", stdout.ToString(), StringComparison.Ordinal);
    }
}
