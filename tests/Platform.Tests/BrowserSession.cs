using Microsoft.Playwright;

namespace Platform.Tests;

/// <summary>A headless Debian Chromium with a browser context (cookies) of its own, for the dashboard's browser tests.</summary>
internal sealed class BrowserSession(IPlaywright playwright, IBrowser browser, IBrowserContext context) : IAsyncDisposable
{
    private const string Chromium = "/usr/bin/chromium";

    public static async Task<BrowserSession> StartAsync()
    {
        Assert.True(await Platform.TestSupport.MachinePackages.EnsureAsync(Chromium, "chromium"), $"{Chromium} is missing: install Debian's chromium package.");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
        return new BrowserSession(playwright, browser, context);
    }

    public Task<IPage> NewPageAsync() => context.NewPageAsync();

    /// <summary>A page signed in with <paramref name="key"/> at <paramref name="login"/>, left on the overview.</summary>
    public async Task<IPage> SignedInPageAsync(Uri login, string key)
    {
        var page = await NewPageAsync();
        await page.GotoAsync(login.ToString());
        await page.FillAsync("input[name=apiKey]", key);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForSelectorAsync("table[data-services]");
        return page;
    }

    /// <summary>
    /// Waits for the page to reach <paramref name="url"/> after a submit; if it does not, fails with what the page shows
    /// instead (its alerts and validation messages), which says whether the submit failed or never happened.
    /// </summary>
    public static async Task WaitForUrlAfterSubmitAsync(IPage page, string url)
    {
        try
        {
            await page.WaitForURLAsync(url);
        }
        catch (TimeoutException e)
        {
            var shown = await page.Locator("[role=alert], .validation-message").AllInnerTextsAsync();
            throw new TimeoutException($"The page stayed at {page.Url}, showing: {(shown.Count == 0 ? "no alert" : string.Join(" | ", shown))}", e);
        }
    }

    /// <summary>Saves the whole page as <c>screenshots/dashboard-{view}.png</c> next to the tests (the images in docs/ are copies).</summary>
    public static async Task ScreenshotAsync(IPage page, string view)
    {
        Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "screenshots"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(AppContext.BaseDirectory, "screenshots", $"dashboard-{view}.png"), FullPage = true });
    }

    public async ValueTask DisposeAsync()
    {
        await context.DisposeAsync();
        await browser.DisposeAsync();
        playwright.Dispose();
    }
}
