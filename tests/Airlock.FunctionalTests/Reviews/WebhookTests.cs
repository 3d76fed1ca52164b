using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Reviews;

namespace Airlock.FunctionalTests.Reviews;

/// <summary>Review events reach real webhook receivers, signed, and a failing one blocks nothing.</summary>
public sealed class WebhookTests : IAsyncLifetime
{
    private const string Secret = "whsec-test-4f2a9c81d3e7b6a5";
    private OidcProvider _idp = null!;
    private TestUpstream _upstream = null!;
    private WebhookReceiver _receiver = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _idp = await TestServices.Idp;
        _upstream = await TestUpstream.StartAsync();
        _receiver = await WebhookReceiver.StartAsync();
        _receiver.FailFirst = 1;
        var config = new GatewayConfig
        {
            Policy = ApprovalTests.Policy,
            Reviews = """
                  links: https://airlock.example.com/reviews/
                  webhooks:
                    - name: audit
                      url: { env: AUDIT_HOOK }
                      format: json
                      secret: { env: AUDIT_SECRET }
                    - name: finance-slack
                      url: { env: SLACK_HOOK }
                      format: slack
                      events: [opened]
                    - name: broken
                      url: { env: BROKEN_HOOK }
                      format: json
                      secret: { env: AUDIT_SECRET }
                """,
        }.Connection("billing", _upstream.BaseUri).TrustIssuer(_idp.Issuer);
        config.Environment["AUDIT_HOOK"] = new Uri(_receiver.BaseUri, "/audit").ToString();
        config.Environment["SLACK_HOOK"] = new Uri(_receiver.BaseUri, "/slack").ToString();
        config.Environment["BROKEN_HOOK"] = $"http://127.0.0.1:{FreePort.Next()}/nowhere";
        config.Environment["AUDIT_SECRET"] = Secret;
        _gateway = await TestGateway.StartAsync(config);
        _key = await _gateway.CreateApiKeyAsync("billing-agent", "agents");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _receiver.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Receivers_get_signed_events_with_a_link_and_a_failing_one_blocks_nothing()
    {
        var held = _gateway.Proxy.SendAsync(ApprovalTests.Post("/billing/v1/refunds", "{\"amount\":42}", _key));
        var review = await _gateway.PendingReviewAsync();

        // The generic JSON event, after one failed attempt and a retry.
        var opened = await _receiver.DeliveryAsync(d => d.Path == "/audit" && d.Headers["Airlock-Webhook-Event"] == "review.opened", "the opened event");
        var timestamp = opened.Headers["Airlock-Webhook-Timestamp"];
        var expected = "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret),
            (byte[])[.. Encoding.UTF8.GetBytes(timestamp + "."), .. opened.Body]));
        Assert.Equal(expected, opened.Headers["Airlock-Webhook-Signature"]);
        Assert.True(Guid.TryParse(opened.Headers["Airlock-Webhook-Id"], out _));
        var json = JsonNode.Parse(opened.Body)!;
        Assert.Equal("review.opened", (string?)json["event"]);
        Assert.Equal(review.Id.ToString(), (string?)json["reviewId"]);
        Assert.Equal($"https://airlock.example.com/reviews/{review.Id}", (string?)json["link"]);
        Assert.Equal("key:billing-agent", (string?)json["requester"]);
        Assert.Equal("refunds", (string?)json["rule"]);
        Assert.DoesNotContain(_key, Encoding.UTF8.GetString(opened.Body), StringComparison.Ordinal);
        Assert.True(_receiver.Attempts >= 2, "the failed delivery was retried");

        var slack = await _receiver.DeliveryAsync(d => d.Path == "/slack", "the slack message");
        var text = (string)JsonNode.Parse(slack.Body)!["text"]!;
        Assert.Contains($"<https://airlock.example.com/reviews/{review.Id}|{review.Id}> needs approval (0/1)", text, StringComparison.Ordinal);
        Assert.Contains("`POST /billing/v1/refunds` by `key:billing-agent`", text, StringComparison.Ordinal);

        // The unreachable webhook did not hold anything up: the review is decided and executed.
        using (await _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/approve", await _idp.TokenAsync("alice"), new { comment = "go" }))
        {
        }

        Assert.Equal(HttpStatusCode.OK, (await held).StatusCode);
        var approved = await _receiver.DeliveryAsync(d => d.Headers["Airlock-Webhook-Event"] == "review.approved", "the approved event");
        Assert.Equal("corp:alice", (string?)JsonNode.Parse(approved.Body)!["actor"]);
        var executed = await _receiver.DeliveryAsync(d => d.Headers["Airlock-Webhook-Event"] == "review.executed", "the executed event");
        Assert.Equal(200, (int?)JsonNode.Parse(executed.Body)!["resultStatus"]);
        Assert.DoesNotContain(_receiver.Deliveries, d => d.Path == "/slack" && Encoding.UTF8.GetString(d.Body).Contains("approved", StringComparison.Ordinal));
        await _gateway.ReviewInStatusAsync(review.Id, ReviewStatus.Executed);
    }
}
