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

    [Fact]
    public async Task A_rule_needing_two_approvals_waits_for_bob_after_alice_then_executes_once()
    {
        await using var host = await ConsoleHost.StartAsync();
        await using var aliceBrowser = await chromium.NewContextAsync();
        await using var bobBrowser = await chromium.NewContextAsync();
        const string body = "{\"plan\":\"pro\",\"price\":129}";
        var held = host.Gateway.Proxy.SendAsync(new HttpRequestMessage(HttpMethod.Put, "/billing/v1/plans/pro")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
            Headers = { Authorization = new("Bearer", host.AgentKey) },
        });
        var review = await host.Gateway.PendingReviewAsync("plan-changes");

        var alice = await host.OpenAsync(aliceBrowser, $"/reviews/{review.Id}", signInAs: "alice");
        await Assertions.Expect(alice.Locator("#state")).ToContainTextAsync("0 of 2 approvals");
        await alice.ClickAsync("#approve");
        await Assertions.Expect(alice.Locator(".notice-ok")).ToHaveTextAsync("Your approval is recorded: 1 of 2.");
        await Assertions.Expect(alice.Locator("#state")).ToContainTextAsync("1 of 2 approvals");
        // Alice decided; she cannot approve twice, and nothing is sent on one approval.
        await Assertions.Expect(alice.Locator("#decide")).ToBeHiddenAsync();
        await Assertions.Expect(alice.Locator(".notice-warn")).ToContainTextAsync("you approved it at");
        Assert.Empty(host.Upstream.Received);
        var aliceInbox = await host.OpenAsync(aliceBrowser, "/", signInAs: null);
        await Assertions.Expect(aliceInbox.Locator("#inbox h2").First).ToHaveTextAsync("0 waiting for you");
        await Assertions.Expect(aliceInbox.Locator("#inbox ul.others li.review")).ToContainTextAsync("1/2 approvals");

        var bob = await host.OpenAsync(bobBrowser, "/", signInAs: "bob");
        await Assertions.Expect(bob.Locator("#inbox li.review")).ToContainTextAsync("1/2 approvals");
        await bob.Locator("#inbox li.review a.line").ClickAsync();
        await Assertions.Expect(bob.Locator(".history")).ToContainTextAsync("Approved by corp:alice");
        await bob.ClickAsync("#approve");

        using var answer = await held;
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(body, Encoding.UTF8.GetString(host.Upstream.Only().Body));
        // Alice's page, still open, shows the outcome without a reload.
        await Assertions.Expect(alice.Locator("#state")).ToHaveAttributeAsync("data-status", ReviewStatus.Executed, new() { Timeout = 5_000 });
        await Assertions.Expect(alice.Locator(".history li")).ToHaveCountAsync(2);
    }

    [Fact]
    public async Task A_second_tab_and_a_second_approver_get_the_honest_answer_and_nothing_runs_twice()
    {
        await using var host = await ConsoleHost.StartAsync();
        await using var aliceBrowser = await chromium.NewContextAsync();
        var held = host.RefundAsync("{\"amount\":300}");
        var review = await host.Gateway.PendingReviewAsync();
        var first = await host.OpenAsync(aliceBrowser, $"/reviews/{review.Id}", signInAs: "alice");
        var second = await aliceBrowser.NewPageAsync();
        await second.GotoAsync(first.Url);
        // Bob's page without its script: nothing hides his forms when the review is decided.
        await using var bobBrowser = await chromium.Browser.NewContextAsync(new() { JavaScriptEnabled = false });
        await bobBrowser.RouteAsync("https://fonts.googleapis.com/**", route => route.AbortAsync());
        var bob = await host.OpenAsync(bobBrowser, $"/reviews/{review.Id}", signInAs: "bob");
        await Assertions.Expect(bob.Locator("#approve")).ToBeVisibleAsync();
        var bobAgain = await bobBrowser.NewPageAsync();
        await bobAgain.GotoAsync(bob.Url);

        // A double click sends one decision.
        await first.DblClickAsync("#approve");
        await Assertions.Expect(first.Locator(".notice-ok")).ToContainTextAsync("Approved.");
        using (var answer = await held)
        {
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        // The second tab learns it live; its forms go.
        await Assertions.Expect(second.Locator("#state")).ToHaveAttributeAsync("data-status", ReviewStatus.Executed, new() { Timeout = 5_000 });
        await Assertions.Expect(second.Locator("#decide")).ToBeHiddenAsync();

        // Bob's stale page still posts: the service says what stands.
        await bob.ClickAsync("#approve");
        await Assertions.Expect(bob.Locator(".notice-error")).ToHaveTextAsync(
            "Not recorded: this review is already executed by corp:alice. Your approval changed nothing, and nothing was sent again.");
        await bobAgain.FillAsync("#deny-reason", "too late, but no");
        await bobAgain.ClickAsync("#deny");
        await Assertions.Expect(bobAgain.Locator(".notice-error")).ToContainTextAsync("Your denial changed nothing");

        Assert.Single(host.Upstream.Received);
        var stored = (await host.Gateway.Store.GetReviewAsync(review.Id, CancellationToken.None))!;
        Assert.Equal(ReviewStatus.Executed, stored.Status);
        Assert.Equal("corp:alice", Assert.Single(stored.Decisions).Subject);
        var voided = (await host.Gateway.Store.QueryAuditEventsAsync(new AuditQuery(), CancellationToken.None)).Where(e => e.Kind == AuditKinds.ReviewDecisionVoid).ToList();
        Assert.Equal(2, voided.Count);
        Assert.All(voided, e => Assert.Equal("corp:bob", e.Actor!.Subject));
    }

    [Fact]
    public async Task A_decided_request_leaves_the_inbox_live_and_is_in_the_recently_decided_tab_with_its_filters()
    {
        await using var host = await ConsoleHost.StartAsync();
        await using var browser = await chromium.NewContextAsync();
        var inbox = await host.OpenAsync(browser, "/", signInAs: "alice");
        var first = host.RefundAsync("{\"amount\":101}");
        var second = host.RefundAsync("{\"amount\":102}");
        await Assertions.Expect(inbox.Locator("#inbox li.review")).ToHaveCountAsync(2, new() { Timeout = 5_000 });
        var reviews = await host.Gateway.Store.ListReviewsAsync(ReviewStatus.Pending, 10, CancellationToken.None);

        // Decided elsewhere (the admin API, by bob): it leaves alice's inbox without a reload.
        var decided = reviews.Single(r => Encoding.UTF8.GetString(r.Request.Body).Contains("101", StringComparison.Ordinal));
        using (var denied = await host.Gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{decided.Id}/deny", await host.Idp.TokenAsync("bob"), new { comment = "duplicate" }))
        {
            Assert.Equal(HttpStatusCode.OK, denied.StatusCode);
        }

        await Assertions.Expect(inbox.Locator("#inbox li.review")).ToHaveCountAsync(1, new() { Timeout = 5_000 });
        await Assertions.Expect(inbox.Locator($"#inbox li[data-review='{decided.Id}']")).ToHaveCountAsync(0);
        Assert.Equal(HttpStatusCode.Forbidden, (await first).StatusCode);

        await inbox.ClickAsync("text=Recently decided");
        await Assertions.Expect(inbox.Locator($"#inbox li[data-review='{decided.Id}']")).ToContainTextAsync("denied");

        // Filters are a plain GET form: a rule with nothing decided shows nothing.
        await inbox.SelectOptionAsync("select[name=rule]", "plan-changes");
        await inbox.ClickAsync("form.filters button");
        await Assertions.Expect(inbox.Locator("#inbox .empty")).ToHaveTextAsync("Nothing decided recently.");
        Assert.Contains("rule=plan-changes", inbox.Url, StringComparison.Ordinal);
        Assert.Contains("tab=decided", inbox.Url, StringComparison.Ordinal);

        await inbox.GotoAsync(new Uri(host.Url, "/?requester=billing").ToString());
        await Assertions.Expect(inbox.Locator("#inbox li.review")).ToHaveCountAsync(1);
        await inbox.GotoAsync(new Uri(host.Url, "/?requester=somebody-else").ToString());
        await Assertions.Expect(inbox.Locator("#inbox li.review")).ToHaveCountAsync(0);

        using var deny = await host.Gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{reviews.Single(r => r.Id != decided.Id).Id}/deny",
            await host.Idp.TokenAsync("bob"), new { comment = "done" });
        Assert.Equal(HttpStatusCode.Forbidden, (await second).StatusCode);
    }

    [Fact]
    public async Task On_a_phone_sized_screen_the_review_fits_and_approve_is_reached_and_pressed_with_the_keyboard()
    {
        await using var host = await ConsoleHost.StartAsync();
        const string body = "{\"customer\":\"cus_77\",\"amount\":90,\"note\":\"a long note that must wrap rather than push the page sideways on a phone screen\"}";
        var held = host.RefundAsync(body, reason: "a customer asked by phone");
        var review = await host.Gateway.PendingReviewAsync();
        await using var phone = await chromium.NewContextAsync(width: 390, height: 844);
        var page = await host.OpenAsync(phone, $"/reviews/{review.Id}", signInAs: "alice");
        await Assertions.Expect(page.Locator("#approve")).ToBeVisibleAsync();
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"),
            "the review page is wider than a 390 px screen");
        await ConsoleHost.ScreenshotAsync(page, "review-phone");

        // Tab from the top of the page reaches Approve, with a visible focus ring, and Enter presses it.
        await page.Locator("body").FocusAsync();
        var reached = false;
        for (var presses = 0; presses < 40 && !reached; presses++)
        {
            await page.Keyboard.PressAsync("Tab");
            reached = await page.EvaluateAsync<string?>("() => document.activeElement && document.activeElement.id") == "approve";
        }

        Assert.True(reached, "Approve is not reachable with the Tab key");
        Assert.NotEqual("none", await page.EvaluateAsync<string>("() => getComputedStyle(document.activeElement).outlineStyle"));
        await page.Keyboard.PressAsync("Enter");
        using var answer = await held;
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(body, Encoding.UTF8.GetString(host.Upstream.Only().Body));
    }
}
