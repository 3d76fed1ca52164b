using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Reviews;

/// <summary>Links in notifications lead to the console's page of the review at the configured
/// public URL, and never to a bind address.</summary>
public sealed class ReviewLinkTests
{
    private const string Secret = "whsec-link-test-0a1b2c3d4e5f";

    private static async Task<(JsonNode Json, string Slack, Guid ReviewId)> OpenedEventsAsync(string? console)
    {
        var idp = await TestServices.Idp;
        await using var upstream = await TestUpstream.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var config = new GatewayConfig
        {
            Policy = ApprovalTests.Policy,
            Reviews = """
                  webhooks:
                    - { name: audit, url: { env: AUDIT_HOOK }, format: json, secret: { env: AUDIT_SECRET }, events: [opened] }
                    - { name: chat, url: { env: SLACK_HOOK }, format: slack, events: [opened] }
                """,
            TopLevel = console,
        }.Connection("billing", upstream.BaseUri).TrustIssuer(idp.Issuer);
        config.Environment["AUDIT_HOOK"] = new Uri(receiver.BaseUri, "/audit").ToString();
        config.Environment["SLACK_HOOK"] = new Uri(receiver.BaseUri, "/slack").ToString();
        config.Environment["AUDIT_SECRET"] = Secret;
        config.Environment["CONSOLE_SECRET"] = "console-secret-for-links";
        await using var gateway = await TestGateway.StartAsync(config);
        var key = await gateway.CreateApiKeyAsync("billing-agent", "agents");

        var held = gateway.Proxy.SendAsync(ApprovalTests.Post("/billing/v1/refunds", "{\"amount\":42}", key, prefer: "wait=1"));
        var review = await gateway.PendingReviewAsync();
        var json = await receiver.DeliveryAsync(d => d.Path == "/audit", "the json event");
        var slack = await receiver.DeliveryAsync(d => d.Path == "/slack", "the slack message");
        (await held).Dispose();
        return (JsonNode.Parse(json.Body)!, (string)JsonNode.Parse(slack.Body)!["text"]!, review.Id);
    }

    [Fact]
    public async Task With_a_console_links_lead_to_its_review_page_at_the_public_url()
    {
        var (json, slack, id) = await OpenedEventsAsync("""
            console:
              issuer: corp
              clientId: airlock-console
              clientSecret: { env: CONSOLE_SECRET }
              publicUrl: https://airlock.example.com
            """);

        Assert.Equal($"https://airlock.example.com/reviews/{id}", (string?)json["link"]);
        Assert.StartsWith($"Airlock review <https://airlock.example.com/reviews/{id}|{id}> needs approval", slack, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_public_url_a_notification_carries_no_link_rather_than_a_bind_address()
    {
        var (json, slack, id) = await OpenedEventsAsync(null);

        Assert.Null(json["link"]);
        Assert.Equal(id.ToString(), (string?)json["reviewId"]);
        Assert.StartsWith($"Airlock review {id} needs approval", slack, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", json.ToJsonString() + slack, StringComparison.Ordinal);
    }
}
