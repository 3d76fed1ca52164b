using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Reviews;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;

namespace Airlock.FunctionalTests.Console;

/// <summary>Every open inbox refreshes at once after a change: they share one store read of the
/// reviews per change, none of them is shown a list from before the change, and each person still
/// gets the list their own rights make.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleInboxSharingTests(ChromiumFixture chromium)
{
    private const int Consoles = 20;

    [Fact]
    public async Task Twenty_inboxes_refreshing_after_a_change_cost_one_store_read_and_each_shows_the_change_as_its_person_may_see_it()
    {
        // The clock stands still, so that only changes (not the snapshot's age) decide when the
        // store is read again; it moves at the end.
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var store = new StoreReads();
        await using var host = await ConsoleHost.StartAsync(time: time, services: store.Register);
        await using var alice = await chromium.NewContextAsync();
        await using var audrey = await chromium.NewContextAsync();
        foreach (var (browser, person) in new[] { (alice, "alice"), (audrey, "audrey") })
        {
            var inbox = await host.OpenAsync(browser, "/", signInAs: person);
            await Assertions.Expect(inbox.Locator("#inbox .empty")).ToBeVisibleAsync();
            // The live page is closed: the refreshes below are the only ones (the cookie stays).
            await inbox.CloseAsync();
        }

        // A review is in the store a moment before the gateway signals it: the refreshes start once
        // the signal (what consoles refresh on) has been raised, as console.js waits for "changed".
        var signals = host.Gateway.Services.GetRequiredService<ReviewSignals>();
        var signalled = Signalled(signals);
        var first = host.RefundAsync("{\"amount\":101}");
        var review = await host.Gateway.PendingReviewAsync();
        await WaitForSignalAsync(signalled, review.Id);
        var refresh = await RefreshAllAsync(host, store, alice);
        Assert.Equal(1, refresh.Reads);
        Assert.All(refresh.Fragments, fragment => Assert.Contains($"data-review=\"{review.Id}\"", fragment, StringComparison.Ordinal));

        // The next change is seen at once by every one of them, again for one read. Alice may
        // decide both; audrey, an auditor, sees them as waiting for others.
        var second = host.RefundAsync("{\"amount\":102}");
        var next = await Eventually.GetAsync(async () =>
            (await host.Gateway.Store.ListReviewsAsync(ReviewStatus.Pending, 10, CancellationToken.None)).FirstOrDefault(r => r.Id != review.Id));
        await WaitForSignalAsync(signalled, next.Id);
        refresh = await RefreshAllAsync(host, store, alice, audrey);
        Assert.Equal(1, refresh.Reads);
        for (var i = 0; i < refresh.Fragments.Length; i++)
        {
            var fragment = refresh.Fragments[i];
            Assert.Contains($"data-review=\"{review.Id}\"", fragment, StringComparison.Ordinal);
            Assert.Contains($"data-review=\"{next.Id}\"", fragment, StringComparison.Ordinal);
            if (i % 2 == 0)
            {
                Assert.Contains("2 waiting for you", fragment, StringComparison.Ordinal);
                Assert.DoesNotContain("waiting for others", fragment, StringComparison.Ordinal);
            }
            else
            {
                Assert.Contains("0 waiting for you", fragment, StringComparison.Ordinal);
                Assert.Contains("2 waiting for others", fragment, StringComparison.Ordinal);
            }
        }

        // No change: nothing is read again while the list is fresh, and once it is older than a
        // second (changes this gateway was not told of) it is read again, once.
        refresh = await RefreshAllAsync(host, store, alice);
        Assert.Equal(0, refresh.Reads);
        time.Advance(TimeSpan.FromSeconds(2));
        refresh = await RefreshAllAsync(host, store, alice);
        Assert.Equal(1, refresh.Reads);
        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted);
    }

    /// <summary>The ids of the reviews the gateway has signalled as changed, from now on.</summary>
    private static System.Collections.Concurrent.ConcurrentDictionary<Guid, TaskCompletionSource> Signalled(ReviewSignals signals)
    {
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<Guid, TaskCompletionSource>();
        signals.Changed += (id, _) => seen.GetOrAdd(id, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        return seen;
    }

    private static Task WaitForSignalAsync(System.Collections.Concurrent.ConcurrentDictionary<Guid, TaskCompletionSource> seen, Guid id) =>
        seen.GetOrAdd(id, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WaitAsync(TimeSpan.FromSeconds(30));

    /// <summary>Every console fetches its fragment at once, as console.js does on "changed"; the
    /// consoles take turns among the people (console i is person i mod the count).</summary>
    private static async Task<(int Reads, string[] Fragments)> RefreshAllAsync(ConsoleHost host, StoreReads store, params IBrowserContext[] people)
    {
        var before = store.Of("ListReviewsAsync");
        var url = new Uri(host.Url, "/fragments/inbox?tab=pending").ToString();
        var responses = await Task.WhenAll(Enumerable.Range(0, Consoles).Select(i => people[i % people.Length].APIRequest.GetAsync(url)));
        var fragments = new string[responses.Length];
        for (var i = 0; i < responses.Length; i++)
        {
            Assert.Equal(200, responses[i].Status);
            Assert.Contains("no-store", responses[i].Headers["cache-control"], StringComparison.Ordinal);
            fragments[i] = await responses[i].TextAsync();
            Assert.StartsWith("<div id=\"inbox\"", fragments[i], StringComparison.Ordinal);
        }

        return (store.Of("ListReviewsAsync") - before, fragments);
    }
}
