using System.Net;
using System.Text;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Reviews;
using Airlock.Gateway.Storage;
using Microsoft.Playwright;

namespace Airlock.FunctionalTests.Console;

/// <summary>Approvers in a real browser: sign in at the provider, see a held request arrive, read
/// it, decide it; the agent gets the upstream's answer, and the upstream got that request once.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleApprovalTests(ChromiumFixture chromium)
{
    [Fact]
    public async Task Alice_sees_a_held_request_arrive_reads_its_exact_body_and_approves_it_the_agent_gets_200_and_the_upstream_one_call()
    {
        await using var host = await ConsoleHost.StartAsync();
        await using var browser = await chromium.NewContextAsync();
        var inbox = await host.OpenAsync(browser, "/", signInAs: "alice");
        await Assertions.Expect(inbox.Locator("h1")).ToHaveTextAsync("Held requests");
        await Assertions.Expect(inbox.Locator("#inbox .empty")).ToBeVisibleAsync();

        // The agent asks while alice looks at her inbox: it appears there without a reload.
        const string body = "{\"customer\":\"cus_4411\",\"amount\":250,\"currency\":\"EUR\",\"lines\":[{\"order\":\"9912\",\"reason\":\"charged twice\"}]}";
        var held = host.RefundAsync(body, reason: "customer 4411 was charged twice for order 9912");
        var row = inbox.Locator("#inbox li.review");
        await Assertions.Expect(row).ToHaveCountAsync(1, new() { Timeout = 5_000 });
        await Assertions.Expect(row).ToContainTextAsync("POST /billing/v1/refunds");
        await Assertions.Expect(row).ToContainTextAsync("billing-agent");
        await Assertions.Expect(row).ToContainTextAsync("0/1 approvals");
        await ConsoleHost.ScreenshotAsync(inbox, "inbox");

        await row.Locator("a.line").ClickAsync();
        await inbox.WaitForURLAsync("**/reviews/*");
        var review = await host.Gateway.PendingReviewAsync();
        await Assertions.Expect(inbox.Locator("h1.request-line")).ToContainTextAsync("POST /billing/v1/refunds");
        await Assertions.Expect(inbox.Locator(".claim")).ToContainTextAsync("customer 4411 was charged twice for order 9912");
        await Assertions.Expect(inbox.Locator(".claim")).ToContainTextAsync("not verified");
        // The exact bytes that will be sent, and the tree of them.
        await Assertions.Expect(inbox.Locator(".request details.raw pre")).ToHaveTextAsync(body);
        await Assertions.Expect(inbox.Locator(".request .tree")).ToContainTextAsync("amount: 250");
        await Assertions.Expect(inbox.Locator(".request .tree")).ToContainTextAsync("reason: \"charged twice\"");
        await Assertions.Expect(inbox.Locator(".why")).ToContainTextAsync("Rule refunds (line 3 of the policy)");
        await Assertions.Expect(inbox.Locator(".why .conditions")).ToContainTextAsync("methods: POST");
        await Assertions.Expect(inbox.Locator(".request .hash")).ToHaveTextAsync(review.RequestSha256);
        await ConsoleHost.ScreenshotAsync(inbox, "review");

        await inbox.ClickAsync("#approve");

        using var answer = await held;
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(review.Id.ToString(), Assert.Single(answer.Headers.GetValues("Airlock-Review")));
        var sent = host.Upstream.Only();
        Assert.Equal("POST", sent.Method);
        Assert.Equal(body, Encoding.UTF8.GetString(sent.Body));
        Assert.Equal("Bearer " + GatewayConfig.UpstreamToken, sent.Header("Authorization"));
        Assert.Null(sent.Header("Airlock-Reason"));

        // The page shows the outcome as it happens: executed, with the upstream's status.
        await Assertions.Expect(inbox.Locator("#state")).ToHaveAttributeAsync("data-status", ReviewStatus.Executed, new() { Timeout = 5_000 });
        await Assertions.Expect(inbox.Locator("#state .upstream-status").First).ToHaveTextAsync("200");
        await Assertions.Expect(inbox.Locator("#decide")).ToBeHiddenAsync();
        await ConsoleHost.ScreenshotAsync(inbox, "review-executed");

        var events = await host.Gateway.Store.QueryAuditEventsAsync(new AuditQuery(), CancellationToken.None);
        var approval = Assert.Single(events, e => e.Kind == AuditKinds.ReviewApproval);
        Assert.Equal("corp:alice", approval.Actor!.Subject);
        Assert.Equal("oidc", approval.Actor.AuthMethod);
        Assert.Equal(review.RequestSha256, approval.Detail["requestSha256"]);
    }
}
