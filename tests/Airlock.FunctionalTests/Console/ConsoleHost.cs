using Airlock.FunctionalTests.Infrastructure;
using Airlock.FunctionalTests.Reviews;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Airlock.FunctionalTests.Console;

/// <summary>
/// A gateway with its console on, for browser tests: a real upstream, the people's OIDC provider
/// (its login form), the console registered there as a client with its real callback, and an agent
/// key. The admin port is chosen first, since the provider must know the console's redirect URI.
/// </summary>
public sealed class ConsoleHost : IAsyncDisposable
{
    public const string Policy = """
        rules:
          - { name: reads, when: { methods: [GET] }, action: allow }
          - name: refunds
            when: { methods: [POST], paths: [/billing/v1/refunds] }
            action: review
            review: { approvers: [finance-approvers], hold: 60s, expires: 1h, maxGrant: 2h }
          - name: plan-changes
            when: { methods: [PUT] }
            action: review
            review: { approvers: [finance-approvers], approvals: 2, hold: 60s, expires: 1h }
        """;

    private ConsoleHost(OidcProvider idp, TestUpstream upstream, TestGateway gateway, string key)
    {
        Idp = idp;
        Upstream = upstream;
        Gateway = gateway;
        AgentKey = key;
    }

    public OidcProvider Idp { get; }

    public TestUpstream Upstream { get; }

    public TestGateway Gateway { get; }

    /// <summary>The API key of the agent <c>billing-agent</c> (group agents).</summary>
    public string AgentKey { get; }

    /// <summary>The console as people open it (its public URL is the admin listener's address).</summary>
    public Uri Url => Gateway.AdminUri;

    public static async Task<ConsoleHost> StartAsync(string? policy = null, TimeProvider? time = null, string consoleSettings = "", Action<GatewayConfig>? configure = null,
        Action<IServiceCollection>? services = null)
    {
        var idp = await TestServices.ConsoleIdp;
        var upstream = await TestUpstream.StartAsync();
        var port = FreePort.Next();
        var publicUrl = new Uri($"http://127.0.0.1:{port}");
        var (clientId, secret) = await idp.RegisterConsoleAsync(publicUrl);
        var config = new GatewayConfig
        {
            Policy = policy ?? Policy,
            AdminListen = $"127.0.0.1:{port}",
            Admin = "  adminGroups: [airlock-admins]\n  auditorGroups: [auditors]",
            TopLevel = $"""
                console:
                  issuer: corp
                  clientId: {clientId}
                  clientSecret: {"{ env: CONSOLE_SECRET }"}
                  publicUrl: {publicUrl.GetLeftPart(UriPartial.Authority)}
                  scopes: [openid, profile, groups]
                {consoleSettings}
                """,
        }.Connection("billing", upstream.BaseUri).TrustIssuer(idp.Issuer);
        config.Environment["CONSOLE_SECRET"] = secret;
        configure?.Invoke(config);
        var gateway = await TestGateway.StartAsync(config, time, services: services);
        var key = await gateway.CreateApiKeyAsync("billing-agent", "agents");
        return new ConsoleHost(idp, upstream, gateway, key);
    }

    /// <summary>The agent asks for a refund; the request is held until someone decides.</summary>
    public Task<HttpResponseMessage> RefundAsync(string json, string? reason = null, string path = "/billing/v1/refunds")
    {
        var request = ApprovalTests.Post(path, json, AgentKey);
        if (reason is not null)
        {
            request.Headers.TryAddWithoutValidation("Airlock-Reason", reason);
        }

        return Gateway.Proxy.SendAsync(request);
    }

    /// <summary>Opens a console page in the browser; signed out, it lands on the provider's login
    /// form, where the person signs in as a person does, and comes back.</summary>
    public async Task<IPage> OpenAsync(IBrowserContext browser, string path, string? signInAs)
    {
        var page = await browser.NewPageAsync();
        await page.GotoAsync(new Uri(Url, path).ToString());
        if (signInAs is not null)
        {
            await SignInAsync(page, signInAs);
        }

        return page;
    }

    /// <summary>Fills the provider's login form (any password: its development form checks none).</summary>
    public async Task SignInAsync(IPage page, string person)
    {
        await page.WaitForURLAsync(url => url.StartsWith(Idp.Issuer, StringComparison.Ordinal));
        await page.FillAsync("input[name=login]", person);
        await page.FillAsync("input[name=password]", "any password");
        await page.ClickAsync("button[type=submit]");
        try
        {
            // Back at the console is enough (Commit): what the test reads next waits for itself.
            // Waiting for the page's load event too timed out, on a busy machine, on a console
            // page that was already showing the inbox.
            await page.WaitForURLAsync(url => url.StartsWith(Url.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal),
                new PageWaitForURLOptions { WaitUntil = WaitUntilState.Commit });
        }
        catch (TimeoutException ex)
        {
            // Where the browser stopped, and what it showed, is what tells a slow machine from a
            // provider page nobody expected (a consent prompt, an expired interaction).
            var text = await page.InnerTextAsync("body", new PageInnerTextOptions { Timeout = 2_000 }).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : "(no body)");
            throw new TimeoutException($"signing in as {person} did not come back to the console: the browser is at {page.Url} showing: {text[..Math.Min(text.Length, 500)]}", ex);
        }
    }

    /// <summary>Keeps a picture of the page with the test's results.</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "console-screenshots");
        Directory.CreateDirectory(directory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, name + ".png"), FullPage = true });
    }

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
