using System.Net;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Reviews;
using Microsoft.AspNetCore.Http;

namespace Airlock.FunctionalTests.Reviews;

/// <summary>
/// A request held under a rule with a <c>mask</c>, approved after a policy reload removed that
/// rule: the result is masked with every detector rather than with less than the rule asked.
/// </summary>
public sealed class ReviewRuleGoneTests : IAsyncLifetime
{
    private OidcProvider _idp = null!;
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _idp = await TestServices.Idp;
        _upstream = await TestUpstream.StartAsync();
        _upstream.Routes["/refunds"] = async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{\"refunded\":\"ada@example.com\",\"ip\":\"10.1.2.3\"}");
        };
        _gateway = await TestGateway.StartAsync(new GatewayConfig
        {
            Policy = """
                rules:
                  - name: refunds
                    when: { methods: [POST] }
                    action: review
                    review: { approvers: [finance-approvers], expires: 1h }
                    mask: { detectors: [{ detector: email }] }
                """,
        }.Connection("billing", _upstream.BaseUri).TrustIssuer(_idp.Issuer));
        _key = await _gateway.CreateApiKeyAsync("billing-agent", "agents");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task A_rule_renamed_before_the_approved_request_runs_leaves_its_result_masked_with_every_detector()
    {
        using var accepted = await _gateway.Proxy.SendAsync(ApprovalTests.Post("/billing/v1/refunds", "{\"amount\":5}", _key, "wait=0"));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var id = Guid.Parse((string)JsonNode.Parse(await accepted.Content.ReadAsStringAsync())!["reviewId"]!);

        var before = _gateway.Policies.Current.Version;
        await File.WriteAllTextAsync(_gateway.PolicyPath, """
            rules:
              - name: refunds-renamed
                when: { methods: [POST] }
                action: review
                review: { approvers: [finance-approvers], expires: 1h }
            """);
        await Eventually.GetAsync(() => Task.FromResult(_gateway.Policies.Current.Version != before ? "reloaded" : null), what: "the policy reload");

        using (var approved = await _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{id}/approve", await _idp.TokenAsync("alice"), new { }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        var executed = await _gateway.ReviewInStatusAsync(id, ReviewStatus.Executed);
        var result = System.Text.Encoding.UTF8.GetString(executed.Result!.Body);
        Assert.Single(_upstream.Received);
        Assert.Contains("[REDACTED:EMAIL]", result, StringComparison.Ordinal);
        // The rule masked emails only; with the rule gone every detector redacts.
        Assert.Contains("[REDACTED:IPV4]", result, StringComparison.Ordinal);
        Assert.DoesNotContain("ada@example.com", result, StringComparison.Ordinal);
    }
}
