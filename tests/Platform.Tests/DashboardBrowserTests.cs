using Microsoft.Playwright;

namespace Platform.Tests;

/// <summary>The dashboard as an operator sees it: Debian's Chromium, headless, driven by Playwright.</summary>
[Collection(PlatformCollection.Name)]
public sealed class DashboardBrowserTests(PlatformFixture platform)
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task AnOperatorSignsInAndSeesEveryServiceHealthy()
    {
        Assert.True(await Platform.TestSupport.MachinePackages.EnsureAsync(Chromium, "chromium"), $"{Chromium} is missing: install Debian's chromium package.");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync();
        var (tenantId, key) = await platform.NewTenantAsync("runs");

        await page.GotoAsync(platform.AppHost.Url("dashboard").ToString());
        Assert.EndsWith("/login", page.Url, StringComparison.Ordinal);
        await page.FillAsync("input[name=apiKey]", key);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForSelectorAsync("table");

        Assert.Contains(tenantId, await page.TextContentAsync("body"), StringComparison.Ordinal);
        foreach (var service in new[] { "orchestrator", "planning", "model", "tool" })
        {
            Assert.Equal("Healthy", await page.TextContentAsync($"tr[data-service={service}] td:nth-child(2)"));
        }

        Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "screenshots"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(AppContext.BaseDirectory, "screenshots", "dashboard.png") });
        await page.ClickAsync("text=Sign out");
        await page.WaitForURLAsync("**/login");
    }
}
