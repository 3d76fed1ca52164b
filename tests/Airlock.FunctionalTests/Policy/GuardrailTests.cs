using System.Net;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Policy;

/// <summary>Output guardrails: a blocked response never reaches the agent, not even in part.</summary>
public sealed class GuardrailTests : IAsyncLifetime
{
    private const string Policy = """
        rules:
          - { name: allow-all, action: allow }
        guardrails:
          - name: no-card-numbers
            when: { connections: [billing] }
            response: { detectors: [payment-card] }
            message: The response held a payment card number.
          - name: no-server-errors
            when: { connections: [crm] }
            response: { status: [500, 502] }
          - name: no-html
            when: { connections: [crm] }
            response: { contentTypes: ["text/*"], bodyMatches: "(?i)<script" }
        """;

    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig { Policy = Policy, PolicySettings = "  maxResponseBodyBytes: 64KiB" }
            .Connection("billing", _upstream.BaseUri)
            .Connection("crm", _upstream.BaseUri)
            .Connection("files", _upstream.BaseUri));
        _key = await _gateway.CreateApiKeyAsync("agent");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Theory]
    [InlineData("/billing/v1/card")]
    [InlineData("/billing/v1/card-gzip")]
    public async Task A_response_with_a_card_number_is_blocked_and_its_body_withheld(string path)
    {
        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get(path, _key));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("4111", body, StringComparison.Ordinal);
        // Not "ada" alone: the session id in the problem is hex, and can hold those letters.
        Assert.DoesNotContain("ada@", body, StringComparison.Ordinal);
        var problem = JsonNode.Parse(body)!;
        Assert.Equal("urn:airlock:problem:response-blocked", (string?)problem["type"]);
        Assert.Equal("no-card-numbers", (string?)problem["guardrail"]);
        Assert.Equal("The response held a payment card number.", (string?)problem["detail"]);
        Assert.False(response.Content.Headers.Contains("Content-Encoding"));
        Assert.Single(_upstream.Received);
        Assert.Equal("response-blocked", (await _gateway.SessionAsync(response)).Error);
    }

    [Fact]
    public async Task A_clean_response_passes_unchanged()
    {
        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/customers", _key));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\"ok\":true}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Guardrails_apply_only_to_their_connections()
    {
        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get("/files/v1/card", _key));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("4111", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_status_guardrail_blocks_without_reading_the_body()
    {
        using var blocked = await _gateway.Proxy.SendAsync(TestGateway.Get("/crm/x?status=500", _key));
        using var passed = await _gateway.Proxy.SendAsync(TestGateway.Get("/crm/x?status=404", _key));

        Assert.Equal(HttpStatusCode.Forbidden, blocked.StatusCode);
        Assert.Equal("no-server-errors", (string?)JsonNode.Parse(await blocked.Content.ReadAsStringAsync())!["guardrail"]);
        Assert.Equal(HttpStatusCode.NotFound, passed.StatusCode);
    }

    [Fact]
    public async Task A_response_too_large_to_inspect_is_blocked()
    {
        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/bytes?n=200000", _key));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("urn:airlock:problem:response-not-inspectable", (string?)problem["type"]);
        Assert.Equal("no-card-numbers", (string?)problem["guardrail"]);
    }
}

/// <summary>Guardrail edge cases: odd content types, headers, bodiless answers.</summary>
public sealed class GuardrailEdgeTests : IAsyncLifetime
{
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig
        {
            Policy = """
                rules:
                  - { name: allow-all, action: allow }
                guardrails:
                  - { name: cards, when: { connections: [billing] }, response: { detectors: [payment-card] } }
                  - { name: json-only, when: { connections: [crm] }, response: { contentTypes: [text/html] } }
                """,
            PolicySettings = "  maxResponseBodyBytes: 64KiB",
        }.Connection("billing", _upstream.BaseUri).Connection("crm", _upstream.BaseUri));
        _key = await _gateway.CreateApiKeyAsync("agent");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task A_card_number_in_a_response_header_is_blocked_too()
    {
        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/x?leak-header=4111111111111111", _key));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Leak"));
        Assert.Equal("cards", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["guardrail"]);
    }

    [Fact]
    public async Task A_content_type_clients_could_read_two_ways_stays_in_scope()
    {
        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get("/crm/v1/x?content-type=text/html,%20application/json", _key));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task A_head_request_has_no_body_to_inspect()
    {
        using var head = await _gateway.Proxy.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/billing/bytes?n=200000")
        {
            Headers = { Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _key) },
        });

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
    }
}
