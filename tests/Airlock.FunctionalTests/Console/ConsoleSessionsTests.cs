using System.Net;
using Airlock.FunctionalTests.Infrastructure;
using Microsoft.Playwright;

namespace Airlock.FunctionalTests.Console;

/// <summary>Sessions for auditors: the list with its filters, and one session's transcript, in
/// which what the agent sent is inert text and its credential withheld.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleSessionsTests(ChromiumFixture chromium)
{
    [Fact]
    public async Task An_auditor_filters_the_sessions_and_reads_one_as_a_transcript_with_the_agents_text_inert()
    {
        await using var host = await ConsoleHost.StartAsync(configure: config =>
            config.Connections[0] = (config.Connections[0].Name, config.Connections[0].Upstream, "    recording: { retentionDays: 1 }"));
        var read = new HttpRequestMessage(HttpMethod.Get, "/billing/v1/customers?limit=2")
        {
            Headers = { Authorization = new("Bearer", host.AgentKey) },
        };
        read.Headers.TryAddWithoutValidation("X-Note", "<img src=x onerror=\"window.__pwned=1;alert(1)\"><script>alert(2)</script>");
        using (var answer = await host.Gateway.Proxy.SendAsync(read))
        {
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        using (var denied = await host.Gateway.Proxy.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/billing/v1/customers/1")
        {
            Headers = { Authorization = new("Bearer", host.AgentKey) },
        }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        }

        var readSession = await Eventually.GetAsync(async () =>
            (await host.Gateway.Store.ListSessionsAsync(new(10), CancellationToken.None)).FirstOrDefault(s => s.Method == "GET" && s.Path == "/billing/v1/customers"),
            what: "the read's session");
        await Eventually.GetAsync(async () => await host.Gateway.Store.GetExchangeAsync(readSession.Id, CancellationToken.None), what: "the read's recording");

        await using var browser = await chromium.NewContextAsync();
        var dialogs = new List<string>();
        browser.Dialog += (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            _ = dialog.DismissAsync();
        };
        var audrey = await host.OpenAsync(browser, "/", signInAs: "audrey");
        await audrey.ClickAsync("header.bar nav >> text=Sessions");
        await Assertions.Expect(audrey.Locator("li.session")).ToHaveCountAsync(2);

        // The filters are a GET form, kept in the address.
        await audrey.FillAsync("input[name=status]", "403");
        await audrey.ClickAsync("form.filters button");
        await Assertions.Expect(audrey.Locator("li.session")).ToHaveCountAsync(1);
        await Assertions.Expect(audrey.Locator("li.session")).ToContainTextAsync("DELETE /billing/v1/customers/1");
        Assert.Contains("status=403", audrey.Url, StringComparison.Ordinal);
        await audrey.GotoAsync(new Uri(host.Url, "/sessions?status=abc").ToString());
        await Assertions.Expect(audrey.Locator(".notice-error")).ToContainTextAsync("The status is an HTTP status");

        // One session: the transcript `airlock sessions show` prints, the agent's header as text.
        await audrey.GotoAsync(new Uri(host.Url, "/sessions").ToString());
        await audrey.Locator($"li.session[data-session='{readSession.Id}'] a.line").ClickAsync();
        var transcript = audrey.Locator("pre.transcript");
        await Assertions.Expect(transcript).ToContainTextAsync("GET /billing/v1/customers?limit=2 HTTP/1.1");
        await Assertions.Expect(transcript).ToContainTextAsync("X-Note: <img src=x onerror=\"window.__pwned=1;alert(1)\"><script>alert(2)</script>");
        await Assertions.Expect(transcript).ToContainTextAsync("Authorization: [WITHHELD]");
        await Assertions.Expect(transcript).Not.ToContainTextAsync(host.AgentKey);
        await ConsoleHost.ScreenshotAsync(audrey, "session");
        Assert.Empty(dialogs);
        Assert.True(await audrey.EvaluateAsync<bool>("() => typeof window.__pwned === 'undefined'"));
        Assert.Equal(0, await audrey.Locator("main img, main script").CountAsync());
    }

    [Fact]
    public async Task An_approver_has_no_sessions_pages()
    {
        await using var host = await ConsoleHost.StartAsync();
        await using var browser = await chromium.NewContextAsync();
        var alice = await host.OpenAsync(browser, "/", signInAs: "alice");
        var list = await alice.GotoAsync(new Uri(host.Url, "/sessions").ToString());
        Assert.Equal(403, list!.Status);
        var one = await alice.GotoAsync(new Uri(host.Url, $"/sessions/{Guid.NewGuid()}").ToString());
        Assert.Equal(403, one!.Status);
        await Assertions.Expect(alice.Locator("h1")).ToHaveTextAsync("For auditors and admins");
    }
}
