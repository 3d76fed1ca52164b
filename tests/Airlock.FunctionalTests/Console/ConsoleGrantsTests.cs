using System.Net;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Storage;
using Microsoft.Playwright;

namespace Airlock.FunctionalTests.Console;

/// <summary>Grants in the console: an approval for a window shows on /grants, for those who may
/// see it; who granted it revokes it there, and the agent's next request is held again.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleGrantsTests(ChromiumFixture chromium)
{
    [Fact]
    public async Task Alice_grants_a_window_sees_it_on_the_grants_page_and_revokes_it_an_auditor_sees_it_but_may_not_revoke()
    {
        await using var host = await ConsoleHost.StartAsync();
        var first = host.RefundAsync("{\"amount\":10}");
        var review = await host.Gateway.PendingReviewAsync();
        await using var aliceBrowser = await chromium.NewContextAsync();
        var alice = await host.OpenAsync(aliceBrowser, $"/reviews/{review.Id}", signInAs: "alice");
        await alice.SelectOptionAsync("#window", "15");
        await alice.ClickAsync("#approve-window");
        Assert.Equal(HttpStatusCode.OK, (await first).StatusCode);

        // In the window, the same agent passes the rule without review.
        using (var second = await host.RefundAsync("{\"amount\":11}"))
        {
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        }

        Assert.Equal(2, host.Upstream.Received.Count);
        var grant = Assert.Single(await host.Gateway.Store.ListGrantsAsync(activeOnly: true, TimeProvider.System.GetUtcNow(), CancellationToken.None));

        // An auditor sees it, without a Revoke button, and a revoke she posts anyway is refused.
        await using var audreyBrowser = await chromium.NewContextAsync();
        var audrey = await host.OpenAsync(audreyBrowser, "/grants", signInAs: "audrey");
        await Assertions.Expect(audrey.Locator($"li.grant[data-grant='{grant.Id}']")).ToContainTextAsync("key:billing-agent may pass rule refunds on billing");
        await Assertions.Expect(audrey.Locator("form.revoke")).ToHaveCountAsync(0);
        var token = await audrey.Locator("form.signout input[name=__RequestVerificationToken]").GetAttributeAsync("value");
        var form = audrey.APIRequest.CreateFormData();
        form.Set("__RequestVerificationToken", token!);
        var refused = await audrey.APIRequest.PostAsync(new Uri(host.Url, $"/grants/{grant.Id}/revoke").ToString(), new() { Form = form });
        Assert.Equal(404, refused.Status);
        Assert.Contains("not one you may revoke", await refused.TextAsync(), StringComparison.Ordinal);

        // Alice, who granted it, revokes it from the page (a form without the page's token does not).
        await alice.ClickAsync("nav >> text=Grants");
        var row = alice.Locator($"li.grant[data-grant='{grant.Id}']");
        await Assertions.Expect(row).ToContainTextAsync("granted by corp:alice");
        await Assertions.Expect(row).ToContainTextAsync("ends in 1");
        var forged = await alice.APIRequest.PostAsync(new Uri(host.Url, $"/grants/{grant.Id}/revoke").ToString(), new() { Form = alice.APIRequest.CreateFormData() });
        Assert.Equal(400, forged.Status);
        Assert.Null((await host.Gateway.Store.GetGrantAsync(grant.Id, CancellationToken.None))!.RevokedAt);
        await ConsoleHost.ScreenshotAsync(alice, "grants");
        await row.Locator("button", new() { HasText = "Revoke" }).ClickAsync();
        await Assertions.Expect(alice.Locator(".notice-ok")).ToContainTextAsync("Revoked.");
        await Assertions.Expect(alice.Locator("li.grant")).ToHaveCountAsync(0);

        var revoked = (await host.Gateway.Store.GetGrantAsync(grant.Id, CancellationToken.None))!;
        Assert.Equal("corp:alice", revoked.RevokedBy);
        var events = await host.Gateway.Store.QueryAuditEventsAsync(new AuditQuery(), CancellationToken.None);
        var recorded = Assert.Single(events, e => e.Kind == AuditKinds.GrantRevoked);
        Assert.Equal("corp:alice", recorded.Actor!.Subject);
        Assert.Equal(grant.Id.ToString(), recorded.Detail["grantId"]);

        // The agent's next refund is held for review again.
        var third = host.RefundAsync("{\"amount\":12}");
        var again = await host.Gateway.PendingReviewAsync();
        Assert.NotEqual(review.Id, again.Id);
        Assert.Equal(2, host.Upstream.Received.Count);
        using var deny = await host.Gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{again.Id}/deny", await host.Idp.TokenAsync("bob"), new { comment = "done" });
        Assert.Equal(HttpStatusCode.Forbidden, (await third).StatusCode);
    }
}
