using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Reviews;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;

namespace Airlock.FunctionalTests.Console;

/// <summary>Every open inbox refreshes at once after a change: they share one store read of the
/// pending reviews per change, and none of them is shown a list from before the change.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleInboxSharingTests(ChromiumFixture chromium)
{
    private const int Consoles = 20;

    [Fact]
    public async Task Twenty_inboxes_refreshing_after_a_change_cost_one_store_read_and_each_shows_the_change()
    {
        // The clock stands still, so that only changes (not the snapshot's age) decide when the
        // store is read again; it moves at the end.
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var store = new StoreReads();
        await using var host = await ConsoleHost.StartAsync(time: time, services: store.Register);
        await using var browser = await chromium.NewContextAsync();
        var inbox = await host.OpenAsync(browser, "/", signInAs: "alice");
        await Assertions.Expect(inbox.Locator("#inbox .empty")).ToBeVisibleAsync();
        // Her live page is closed: the refreshes below are the only ones (her cookie stays).
        await inbox.CloseAsync();

        var first = host.RefundAsync("{\"amount\":101}");
        var review = await host.Gateway.PendingReviewAsync();
        var rows = await RefreshAllAsync(browser, host, store);
        Assert.Equal(1, rows.Reads);
        Assert.All(rows.Fragments, fragment => Assert.Contains($"data-review=\"{review.Id}\"", fragment, StringComparison.Ordinal));

        // The next change is seen at once by every one of them, again for one read.
        var second = host.RefundAsync("{\"amount\":102}");
        var next = await Eventually.GetAsync(async () =>
            (await host.Gateway.Store.ListReviewsAsync(ReviewStatus.Pending, 10, CancellationToken.None)).FirstOrDefault(r => r.Id != review.Id));
        rows = await RefreshAllAsync(browser, host, store);
        Assert.Equal(1, rows.Reads);
        Assert.All(rows.Fragments, fragment =>
        {
            Assert.Contains($"data-review=\"{review.Id}\"", fragment, StringComparison.Ordinal);
            Assert.Contains($"data-review=\"{next.Id}\"", fragment, StringComparison.Ordinal);
        });

        // No change: nothing is read again while the list is fresh, and once it is older than a
        // second (changes this gateway was not told of) it is read again, once.
        rows = await RefreshAllAsync(browser, host, store);
        Assert.Equal(0, rows.Reads);
        time.Advance(TimeSpan.FromSeconds(2));
        rows = await RefreshAllAsync(browser, host, store);
        Assert.Equal(1, rows.Reads);
        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted);
    }

    /// <summary>Every console fetches its fragment at once, as console.js does on "changed".</summary>
    private static async Task<(int Reads, string[] Fragments)> RefreshAllAsync(IBrowserContext browser, ConsoleHost host, StoreReads store)
    {
        var before = store.Of("ListReviewsAsync");
        var url = new Uri(host.Url, "/fragments/inbox?tab=pending").ToString();
        var responses = await Task.WhenAll(Enumerable.Range(0, Consoles).Select(_ => browser.APIRequest.GetAsync(url)));
        var fragments = new string[responses.Length];
        for (var i = 0; i < responses.Length; i++)
        {
            Assert.Equal(200, responses[i].Status);
            fragments[i] = await responses[i].TextAsync();
            Assert.Contains("id=\"inbox\"", fragments[i], StringComparison.Ordinal);
        }

        return (store.Of("ListReviewsAsync") - before, fragments);
    }
}
