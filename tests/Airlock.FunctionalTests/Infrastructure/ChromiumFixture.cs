using Microsoft.Playwright;

namespace Airlock.FunctionalTests.Infrastructure;

/// <summary>
/// One real browser for the console's tests: Debian's Chromium (<c>/usr/bin/chromium</c>, which
/// .ci/run installs) driven by Playwright, started once for the collection (about a second) and
/// given a fresh context — cookies, storage — per person in each test.
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    public const string Executable = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException($"the console's browser tests need Chromium at {Executable}: apt-get install chromium (.ci/run does this)");
        }

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Executable,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>A browser profile of its own: one person, their cookies. The provider's login
    /// page asks a font service on the internet for its font; that request is refused here.</summary>
    public async Task<IBrowserContext> NewContextAsync(int width = 1280, int height = 900)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            Locale = "en-GB",
        });
        context.SetDefaultTimeout(15_000);
        await context.RouteAsync("https://fonts.googleapis.com/**", route => route.AbortAsync());
        return context;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
    }
}

/// <summary>The console's browser tests share one Chromium and run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<ChromiumFixture>
{
    public const string Name = "console";
}
