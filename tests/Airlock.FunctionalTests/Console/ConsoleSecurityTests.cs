using System.Net;
using System.Text;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.FunctionalTests.Reviews;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Console;
using Airlock.Gateway.Reviews;
using Airlock.Gateway.Storage;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;

namespace Airlock.FunctionalTests.Console;

/// <summary>The console shows what a hostile agent wrote: in a real browser, none of it runs, and
/// only the right people, from a fresh enough sign-in, on the console's own forms, decide.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleSecurityTests(ChromiumFixture chromium)
{
    private const string Anything = """
        rules:
          - name: anything-posted
            when: { methods: [POST] }
            action: review
            review: { approvers: [finance-approvers], hold: 60s, expires: 1h }
        """;

    [Fact]
    public async Task Script_in_the_path_query_headers_reason_and_body_renders_as_inert_visible_text_under_a_strict_csp()
    {
        await using var host = await ConsoleHost.StartAsync(Anything);
        const string bidi = "\u202E";
        var body = "{\"note\":\"<script>window.__pwned=1;alert(1)</script>\",\"link\":\"javascript:window.__pwned=1\","
            + "\"html\":\"\\\"><img src=x onerror=\\\"window.__pwned=1;alert(2)\\\">\",\"amount\":\"" + bidi + "0001$\","
            + "\"<img src=x onerror=alert(3)>\":\"</details><script>alert(4)</script>\"}";
        var request = ApprovalTests.Post("/billing/v1/%3Cscript%3Ealert(5)%3C/script%3E/" + Uri.EscapeDataString("refunds" + bidi + "gpj.exe")
            + "?next=javascript:alert(6)&q=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(7)%3E", body, host.AgentKey);
        request.Headers.TryAddWithoutValidation("X-Note", "<script>window.__pwned=1</script>");
        request.Headers.TryAddWithoutValidation("X-Link", "javascript:alert(8)");
        request.Headers.TryAddWithoutValidation("X-Break", "\"><img src=x onerror=alert(9)>");
        request.Headers.TryAddWithoutValidation("Airlock-Reason", "<script>alert(10)</script> pre-approved: javascript:alert(11)");
        var held = host.Gateway.Proxy.SendAsync(request);
        var review = await host.Gateway.PendingReviewAsync();

        await using var browser = await chromium.NewContextAsync();
        var dialogs = new List<string>();
        browser.Dialog += (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            _ = dialog.DismissAsync();
        };
        var inbox = await host.OpenAsync(browser, "/", signInAs: "alice");
        await Assertions.Expect(inbox.Locator("#inbox li.review")).ToHaveCountAsync(1);
        var page = await host.OpenAsync(browser, $"/reviews/{review.Id}", signInAs: null);
        var response = await page.ReloadAsync();

        // The agent's text is on the page as text.
        await Assertions.Expect(page.Locator(".request details.raw pre")).ToContainTextAsync("<script>window.__pwned=1;alert(1)</script>");
        await Assertions.Expect(page.Locator(".request .tree")).ToContainTextAsync("\"javascript:window.__pwned=1\"");
        await Assertions.Expect(page.Locator(".request .tree")).ToContainTextAsync("<img src=x onerror=alert(3)>: \"</details><script>alert(4)</script>\"");
        await Assertions.Expect(page.Locator("table.headers")).ToContainTextAsync("<script>window.__pwned=1</script>");
        await Assertions.Expect(page.Locator("table.headers")).ToContainTextAsync("\"><img src=x onerror=alert(9)>");
        await Assertions.Expect(page.Locator(".claim")).ToContainTextAsync("<script>alert(10)</script> pre-approved: javascript:alert(11)");
        await Assertions.Expect(page.Locator(".request .facts")).ToContainTextAsync("next=javascript:alert(6)");
        // A bidi override is shown as a code, never applied: the path reads as sent.
        await Assertions.Expect(page.Locator(".request .tree")).ToContainTextAsync("\"[U+202E]0001$\"");
        Assert.DoesNotContain(bidi, await page.Locator("main").InnerTextAsync(), StringComparison.Ordinal);
        await ConsoleHost.ScreenshotAsync(page, "review-hostile");

        // Nothing ran: no dialog, the probe unset, no element the agent wrote.
        Assert.Empty(dialogs);
        Assert.True(await page.EvaluateAsync<bool>("() => typeof window.__pwned === 'undefined'"));
        Assert.Equal(0, await page.Locator("main img, main script, main iframe, a[href^='javascript']").CountAsync());
        Assert.Equal(2, await page.Locator("script").CountAsync() + await page.Locator("link[rel=stylesheet]").CountAsync());

        var headers = await response!.AllHeadersAsync();
        var csp = headers["content-security-policy"];
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", headers["x-content-type-options"]);
        Assert.Equal("no-referrer", headers["referrer-policy"]);
        // (Antiforgery, issuing the page's token, adds no-cache too.)
        Assert.Contains("no-store", headers["cache-control"].Split(',', StringSplitOptions.TrimEntries));

        // The session cookie: HttpOnly, SameSite=Lax (not Secure: this console is plain http on loopback).
        var cookies = await browser.CookiesAsync();
        var session = Assert.Single(cookies, c => c.Name.StartsWith("airlock-console", StringComparison.Ordinal));
        Assert.True(session.HttpOnly);
        Assert.Equal(SameSiteAttribute.Lax, session.SameSite);
        Assert.Equal(-1, session.Expires);
        var csrf = Assert.Single(cookies, c => c.Name == "airlock-csrf");
        Assert.True(csrf.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, csrf.SameSite);

        // Denying it still works, and nothing the agent wrote went anywhere.
        await page.FillAsync("#deny-reason", "no");
        await page.ClickAsync("#deny");
        Assert.Equal(HttpStatusCode.Forbidden, (await held).StatusCode);
        Assert.Empty(host.Upstream.Received);
        Assert.Empty(dialogs);
    }

    [Fact]
    public async Task Someone_signed_in_with_no_role_gets_a_403_page_that_says_so_not_a_loop()
    {
        await using var host = await ConsoleHost.StartAsync();
        await using var browser = await chromium.NewContextAsync();
        var page = await browser.NewPageAsync();
        IResponse? last = null;
        page.Response += (_, r) => { if (r.Url.StartsWith(host.Url.ToString(), StringComparison.Ordinal) && r.Request.IsNavigationRequest) last = r; };
        await page.GotoAsync(host.Url.ToString());
        await host.SignInAsync(page, "carol");

        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("No access to the console");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("You are signed in as corp:carol (groups: people).");
        Assert.Equal(403, last!.Status);
        Assert.Equal(host.Url.ToString(), page.Url);
        await ConsoleHost.ScreenshotAsync(page, "no-role");

        // Every page says the same; she can still sign out.
        var held = host.RefundAsync("{\"amount\":500}");
        var review = await host.Gateway.PendingReviewAsync();
        await page.GotoAsync(new Uri(host.Url, $"/reviews/{review.Id}").ToString());
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("No access to the console");
        Assert.DoesNotContain("refunds", await page.ContentAsync(), StringComparison.Ordinal);
        await page.ClickAsync("text=Sign out");
        await page.WaitForURLAsync(url => url.StartsWith(host.Idp.Issuer, StringComparison.Ordinal));
        using var deny = await host.Gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/deny", await host.Idp.TokenAsync("bob"), new { comment = "cleanup" });
        (await held).Dispose();
    }

    [Fact]
    public async Task The_requester_cannot_approve_their_own_request_even_by_posting_the_form()
    {
        await using var host = await ConsoleHost.StartAsync();
        // Alice's own agent: its key names her as owner.
        var service = (Airlock.Gateway.Identity.ApiKeys.ApiKeyService)host.Gateway.Services.GetService(typeof(Airlock.Gateway.Identity.ApiKeys.ApiKeyService))!;
        var (created, _) = await service.CreateAsync("alices-agent", ["agents"], CancellationToken.None, owner: "corp:alice");
        var held = host.Gateway.Proxy.SendAsync(ApprovalTests.Post("/billing/v1/refunds", "{\"amount\":900}", created!.Text));
        var review = await host.Gateway.PendingReviewAsync();

        await using var browser = await chromium.NewContextAsync();
        var page = await host.OpenAsync(browser, "/", signInAs: "alice");
        await Assertions.Expect(page.Locator("#inbox .empty")).ToBeVisibleAsync();
        await page.GotoAsync(new Uri(host.Url, $"/reviews/{review.Id}").ToString());
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("You may not decide this review: you asked for this request yourself; someone else must decide it");
        await Assertions.Expect(page.Locator("#decide")).ToBeHiddenAsync();

        // The forms are only hidden; the server decides who may decide.
        await page.Locator("form.approve").EvaluateAsync("(form) => form.requestSubmit()");
        await Assertions.Expect(page.Locator(".notice-error")).ToHaveTextAsync("Not decided: you asked for this request yourself; someone else must decide it.");
        var stored = (await host.Gateway.Store.GetReviewAsync(review.Id, CancellationToken.None))!;
        Assert.Equal(ReviewStatus.Pending, stored.Status);
        Assert.Empty(stored.Decisions);
        Assert.Empty(host.Upstream.Received);

        using var deny = await host.Gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/deny", await host.Idp.TokenAsync("bob"), new { comment = "no" });
        Assert.Equal(HttpStatusCode.Forbidden, (await held).StatusCode);
    }

    [Fact]
    public async Task A_decision_without_the_pages_antiforgery_token_or_for_another_payload_is_refused()
    {
        await using var host = await ConsoleHost.StartAsync();
        var held = host.RefundAsync("{\"amount\":400}");
        var review = await host.Gateway.PendingReviewAsync();
        await using var browser = await chromium.NewContextAsync();
        var page = await host.OpenAsync(browser, $"/reviews/{review.Id}", signInAs: "alice");
        var decide = new Uri(host.Url, $"/reviews/{review.Id}/decide").ToString();

        // A cross-site form (no token), with alice's cookies: refused.
        var forged = await page.APIRequest.PostAsync(decide, new() { Form = FormOf(page.APIRequest, ("verdict", "approve"), ("requestSha256", review.RequestSha256)) });
        Assert.Equal(400, forged.Status);
        Assert.Contains("did not come from this console page", await forged.TextAsync(), StringComparison.Ordinal);

        // A GET decides nothing.
        var get = await page.APIRequest.GetAsync(decide);
        Assert.NotEqual(200, get.Status);

        // The page's own form, but naming another payload than the one held: refused, said so.
        await page.Locator("form.approve input[name=requestSha256]").EvaluateAsync("(input) => { input.value = 'sha256:' + '0'.repeat(64); }");
        await page.ClickAsync("#approve");
        await Assertions.Expect(page.Locator(".notice-error")).ToContainTextAsync("its SHA-256 differs");
        Assert.Equal(ReviewStatus.Pending, (await host.Gateway.Store.GetReviewAsync(review.Id, CancellationToken.None))!.Status);
        Assert.Empty(host.Upstream.Received);

        // The real form still works.
        await page.ClickAsync("#approve");
        Assert.Equal(HttpStatusCode.OK, (await held).StatusCode);
        Assert.Single(host.Upstream.Received);
    }

    [Fact]
    public async Task An_approval_from_a_sign_in_older_than_approvalMaxAge_sends_the_person_to_sign_in_again_and_applies_nothing()
    {
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var host = await ConsoleHost.StartAsync(time: time, consoleSettings: "  approvalMaxAge: 1m");
        const string body = "{\"amount\":700}";
        var held = host.RefundAsync(body);
        var review = await host.Gateway.PendingReviewAsync();
        await using var browser = await chromium.NewContextAsync();
        var page = await host.OpenAsync(browser, $"/reviews/{review.Id}", signInAs: "alice");
        await Assertions.Expect(page.Locator("#approve")).ToBeVisibleAsync();

        // Two minutes later (the provider said when alice signed in: auth_time), her sign-in is too
        // old to approve; the page says so before she clicks.
        time.AdjustTime(TimeProvider.System.GetUtcNow() + TimeSpan.FromMinutes(2));
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#decide .notice-warn")).ToContainTextAsync("Deciding needs a sign-in from the last 1 min; yours is older.");
        await page.ClickAsync("#approve");

        // The approval goes nowhere: she is at the provider, asked to sign in again (prompt=login:
        // its login form, although she has a session there), and nothing was recorded or sent.
        await page.WaitForURLAsync(url => url.StartsWith(host.Idp.Issuer, StringComparison.Ordinal));
        await Assertions.Expect(page.Locator("input[name=login]")).ToBeVisibleAsync();
        var stored = (await host.Gateway.Store.GetReviewAsync(review.Id, CancellationToken.None))!;
        Assert.Equal(ReviewStatus.Pending, stored.Status);
        Assert.Empty(stored.Decisions);
        Assert.Empty(host.Upstream.Received);
        Assert.DoesNotContain(await host.Gateway.Store.QueryAuditEventsAsync(new AuditQuery(), CancellationToken.None), e => e.Kind == AuditKinds.ReviewApproval);
        Assert.False(held.IsCompleted);

        // She signs in again (the clock back where the provider's is) and lands on the same review,
        // which asks her to decide again: the first click is not replayed.
        time.AdjustTime(TimeProvider.System.GetUtcNow());
        await page.FillAsync("input[name=login]", "alice");
        await page.FillAsync("input[name=password]", "any password");
        await page.ClickAsync("button[type=submit]");
        var back = new Uri(host.Url, $"/reviews/{review.Id}?notice=signed-in").ToString();
        await page.WaitForURLAsync(url => url == back);
        await Assertions.Expect(page.Locator(".notice-ok")).ToHaveTextAsync("You signed in again. Decide when ready.");
        await Assertions.Expect(page.Locator("#decide .notice-warn")).ToHaveCountAsync(0);
        Assert.Equal(ReviewStatus.Pending, (await host.Gateway.Store.GetReviewAsync(review.Id, CancellationToken.None))!.Status);
        Assert.Empty(host.Upstream.Received);

        await page.ClickAsync("#approve");
        using var answer = await held;
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(body, Encoding.UTF8.GetString(host.Upstream.Only().Body));
    }

    [Fact]
    public async Task The_link_a_webhook_carries_opened_signed_out_lands_on_its_review_after_sign_in_and_a_return_address_elsewhere_lands_on_the_inbox()
    {
        await using var chat = await WebhookReceiver.StartAsync();
        await using var host = await ConsoleHost.StartAsync(configure: config =>
        {
            config.Reviews = "  webhooks:\n    - { name: chat, url: { env: CHAT_HOOK }, format: json, secret: { env: CHAT_SECRET }, events: [opened] }";
            config.Environment["CHAT_HOOK"] = new Uri(chat.BaseUri, "/chat").ToString();
            config.Environment["CHAT_SECRET"] = "whsec-console-link-0a1b2c3d";
        });
        var held = host.RefundAsync("{\"amount\":702}");
        var review = await host.Gateway.PendingReviewAsync();
        var opened = await chat.DeliveryAsync(d => d.Path == "/chat", "the review.opened notification");
        var link = (string)System.Text.Json.Nodes.JsonNode.Parse(opened.Body)!["link"]!;
        Assert.Equal(new Uri(host.Url, $"/reviews/{review.Id}").ToString(), link);
        await using var browser = await chromium.NewContextAsync();

        // The link the notification carried, followed signed out: the provider, then that very review.
        var page = await browser.NewPageAsync();
        await page.GotoAsync(link);
        await host.SignInAsync(page, "alice");
        await page.WaitForURLAsync(link);
        Assert.Equal(link, page.Url);
        await Assertions.Expect(page.Locator("h1.request-line")).ToContainTextAsync("POST /billing/v1/refunds");

        // A sign-in link naming another site, or what a browser reads as one, returns to the inbox
        // (were it followed, the page would fail to load: evil.example does not resolve).
        foreach (var returnUrl in new[]
        {
            "https://evil.example/x", "//evil.example/x", "/\\evil.example/x", "%2F%2Fevil.example/x", "http:evil.example",
            " //evil.example/x", "/\t/evil.example/x", "javascript:alert(1)",
        })
        {
            await page.GotoAsync(new Uri(host.Url, "/signin?returnUrl=" + Uri.EscapeDataString(returnUrl)).ToString());
            Assert.Equal(host.Url.ToString(), page.Url);
            await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Held requests");
        }

        using var deny = await host.Gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{review.Id}/deny", await host.Idp.TokenAsync("bob"), new { comment = "cleanup" });
        Assert.Equal(HttpStatusCode.Forbidden, (await held).StatusCode);
    }

    [Fact]
    public async Task Behind_an_https_public_url_every_console_cookie_is_secure_httponly_and_samesite()
    {
        var idp = await TestServices.ConsoleIdp;
        await using var upstream = await TestUpstream.StartAsync();
        var (clientId, secret) = await idp.RegisterConsoleAsync(new Uri("https://airlock.example.com"));
        var config = HttpsConsole(idp, upstream.BaseUri, clientId, secret);
        await using var gateway = await TestGateway.StartAsync(config);

        // Signed out, a page sends the browser to the provider: the sign-in's own cookies
        // (correlation, nonce) are Secure. (The provider took the pushed authorization request,
        // so the way back it was given is the one registered: the public URL's /signin-oidc.)
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = gateway.AdminUri };
        using var challenge = await client.GetAsync(new Uri("/reviews/" + Guid.NewGuid(), UriKind.Relative));
        Assert.Equal(HttpStatusCode.Found, challenge.StatusCode);
        Assert.StartsWith(idp.Issuer + "/auth?", challenge.Headers.Location!.ToString(), StringComparison.Ordinal);
        var setCookies = challenge.Headers.GetValues("Set-Cookie").ToList();
        Assert.Equal(2, setCookies.Count);
        Assert.All(setCookies, cookie =>
        {
            var attributes = cookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).Select(a => a.ToLowerInvariant()).ToList();
            Assert.Contains("secure", attributes);
            Assert.Contains("httponly", attributes);
            Assert.Contains("samesite=lax", attributes);
        });

        // The session and antiforgery cookies, as the gateway builds them: Secure, and __Host-
        // (this host only, path /), so nothing on a sibling domain can set or read them.
        var context = new DefaultHttpContext();
        var session = gateway.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(ConsoleSchemes.Cookie).Cookie;
        var sessionCookie = session.Build(context);
        Assert.Equal("__Host-airlock-console", session.Name);
        Assert.True(sessionCookie.Secure);
        Assert.True(sessionCookie.HttpOnly);
        Assert.Equal(SameSiteMode.Lax, sessionCookie.SameSite);
        Assert.Equal("/", sessionCookie.Path);
        Assert.Null(sessionCookie.Domain);
        var antiforgery = gateway.Services.GetRequiredService<IOptions<AntiforgeryOptions>>().Value.Cookie;
        var antiforgeryCookie = antiforgery.Build(context);
        Assert.Equal("__Host-airlock-csrf", antiforgery.Name);
        Assert.True(antiforgeryCookie.Secure);
        Assert.True(antiforgeryCookie.HttpOnly);
        Assert.Equal(SameSiteMode.Strict, antiforgeryCookie.SameSite);
    }

    [Fact]
    public async Task A_provider_that_refuses_the_console_gets_a_page_saying_sign_in_could_not_start_not_a_crash()
    {
        var idp = await TestServices.ConsoleIdp;
        await using var upstream = await TestUpstream.StartAsync();
        var (clientId, _) = await idp.RegisterConsoleAsync(new Uri("https://airlock.example.com"));
        var config = HttpsConsole(idp, upstream.BaseUri, clientId, "not-the-secret-the-provider-knows");
        await using var gateway = await TestGateway.StartAsync(config);

        // The provider refuses the pushed authorization request (invalid_client).
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = gateway.AdminUri };
        using var page = await client.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadGateway, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("Sign-in could not start", html, StringComparison.Ordinal);
        Assert.Contains("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    private static IFormData FormOf(IAPIRequestContext api, params (string Name, string Value)[] fields)
    {
        var form = api.CreateFormData();
        foreach (var (name, value) in fields)
        {
            form.Set(name, value);
        }

        return form;
    }

    /// <summary>A gateway whose console is reached at https://airlock.example.com (TLS ended in
    /// front of it), signing in with the given client secret.</summary>
    private static GatewayConfig HttpsConsole(OidcProvider idp, Uri upstream, string clientId, string secret)
    {
        var config = new GatewayConfig
        {
            Policy = ConsoleHost.Policy,
            TopLevel = $$"""
                console:
                  issuer: corp
                  clientId: {{clientId}}
                  clientSecret: { env: CONSOLE_SECRET }
                  publicUrl: https://airlock.example.com
                """,
        }.Connection("billing", upstream).TrustIssuer(idp.Issuer);
        config.Environment["CONSOLE_SECRET"] = secret;
        return config;
    }
}
