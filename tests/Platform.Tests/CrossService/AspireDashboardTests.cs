using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Npgsql;
using Platform.TestSupport;
using static Microsoft.Playwright.Assertions;

namespace Platform.Tests.CrossService;

/// <summary>The Aspire dashboard of a whole AppHost run as a process, in Debian's headless Chromium, as a developer uses it.</summary>
[Collection(AppHostProcessCollection.Name)]
public sealed partial class AspireDashboardTests
{
    private const string Chromium = "/usr/bin/chromium";
    private const string ChatCompletions = "POST /v1/chat/completions";
    private const string MarkerCount = "SELECT count(*) FROM dashboard_backup_marker WHERE marker = $1";
    private static readonly string[] Resources = ["postgres", "orchestratordb", "planningdb", "modeldb", "tooldb", "cache", "orchestrator", "planning", "model", "tool", "dashboard"];
    private static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");

    [Fact]
    public async Task TheAspireDashboardListsEveryResourceRunningAndHealthyAndShowsATraceOfARequest()
    {
        await using var appHost = await AppHostProcess.StartAsync();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await SignInAsync(browser, appHost);

        foreach (var resource in Resources)
        {
            await ExpectRunningAndHealthyAsync(page, resource);
        }

        await ScreenshotAsync(page, "aspire-dashboard-resources.png");

        // A trace id of the test's own, sent as the W3C parent, names the request's trace in the dashboard.
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using (var client = PlatformApp.ClientFor(appHost.Service("model")!.Value.Url, appHost.AdminApiKey))
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions"))
        {
            request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
            request.Content = JsonContent.Create(new { model = "simulator", messages = new[] { new { role = "user", content = "trace me" } } });
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await page.GetByRole(AriaRole.Link, new() { Name = "Traces", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Traces", Exact = true })).ToBeVisibleAsync();
        var trace = page.GetByRole(AriaRole.Gridcell, new() { Name = $"Name: model: {ChatCompletions} Trace Id: {traceId}", Exact = true });
        var others = page.GetByRole(AriaRole.Gridcell, new() { NameRegex = new Regex("^Name: ") }).Filter(new() { HasNotText = ChatCompletions });
        await FilterTracesAsync(page, others);
        await Expect(trace).ToBeVisibleAsync(new() { Timeout = 45_000 });

        // The grid re-renders as traces arrive, and on a busy machine it may drop the filter: type it again if so.
        await FilterTracesAsync(page, others);
        await ScreenshotAsync(page, "aspire-dashboard-traces.png");

        await trace.ClickAsync();
        await page.WaitForURLAsync($"**/traces/detail/{traceId}");
        await Expect(page.GetByRole(AriaRole.Gridcell, new() { Name = $"model: {ChatCompletions}", Exact = true })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Gridcell, new() { Name = "model: chat simulator", Exact = true })).ToBeVisibleAsync();
        await ScreenshotAsync(page, "aspire-dashboard-trace.png");
    }

    [Fact]
    public async Task ABackUpCommandRunFromTheDashboardWritesABackupThatRestores()
    {
        await using var appHost = await AppHostProcess.StartAsync();
        var toolDb = Processes.Environment(appHost.Service("tool")!.Value.Pid)["ConnectionStrings__tooldb"];
        var marker = Guid.NewGuid().ToString("N");
        await ExecuteAsync(toolDb, "CREATE TABLE dashboard_backup_marker (marker text PRIMARY KEY)");
        await ExecuteAsync(toolDb, "INSERT INTO dashboard_backup_marker VALUES ($1)", marker);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await SignInAsync(browser, appHost);
        await ExpectRunningAndHealthyAsync(page, "postgres");

        await RunCommandAsync(page, "postgres", "Back up");
        var backups = Path.Combine(appHost.DataDirectory, "backups", "postgres");
        var backup = Assert.Single(Directory.GetDirectories(backups));
        Assert.True(new FileInfo(Path.Combine(backup, "tooldb.dump")).Length > 0, $"no dump of tooldb in {backup}");
        await ScreenshotAsync(page, "aspire-dashboard-back-up.png");

        await ExecuteAsync(toolDb, "DELETE FROM dashboard_backup_marker");
        Assert.Equal(0L, await ExecuteAsync(toolDb, MarkerCount, marker));

        await RunCommandAsync(page, "postgres", "Restore latest backup",
            confirm: page.Locator("fluent-dialog").Filter(new() { HasText = "Replace every database with the newest backup?" }));
        Assert.Equal(1L, await ExecuteAsync(toolDb, MarkerCount, marker));
    }

    private static async Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        Assert.True(await MachinePackages.EnsureAsync(Chromium, "chromium"), $"{Chromium} is missing: install Debian's chromium package.");
        return await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>Opens the login URL the AppHost printed, which sets the dashboard's cookie and lands on the resources page.</summary>
    private static async Task<IPage> SignInAsync(IBrowser browser, AppHostProcess appHost)
    {
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1000 } });
        await page.GotoAsync(appHost.LoginUrl.ToString());
        await Expect(ResourceRow(page, "postgres")).ToBeVisibleAsync(new() { Timeout = 30_000 });

        // Aspire's notice that no HTTPS development certificate is trusted; the platform runs on plain HTTP on purpose.
        var dismiss = page.GetByLabel("Dismiss notification");
        if (await dismiss.IsVisibleAsync())
        {
            await dismiss.ClickAsync();
            await page.Mouse.MoveAsync(800, 900);
        }

        return page;
    }

    private static ILocator ResourceRow(IPage page, string resource) =>
        page.GetByRole(AriaRole.Row).Filter(new() { Has = page.Locator(".resource-name-text").GetByText(resource, new() { Exact = true }) });

    /// <summary>
    /// The state cell is labelled exactly "Running" only while the resource is running and healthy; otherwise it reads
    /// "Running (Unhealthy)" and is labelled with a tooltip that says so.
    /// </summary>
    /// <summary>
    /// Types the filter into the traces page's search box, again while the page has not applied it: text typed before
    /// the page is interactive (slow on a loaded machine) is lost.
    /// </summary>
    private static async Task FilterTracesAsync(IPage page, ILocator others)
    {
        for (var attempt = 1; ; attempt++)
        {
            await page.GetByRole(AriaRole.Searchbox).FillAsync(ChatCompletions);
            try
            {
                await Expect(others).ToHaveCountAsync(0, new() { Timeout = 10_000 });
                return;
            }
            catch (PlaywrightException) when (attempt < 5)
            {
                await page.GetByRole(AriaRole.Searchbox).FillAsync("");
            }
        }
    }

    [GeneratedRegex(@"^\s*Running(\s+\d+)?\s*$")]
    private static partial Regex RunningState();

    private static async Task ExpectRunningAndHealthyAsync(IPage page, string resource)
    {
        var row = ResourceRow(page, resource);
        try
        {
            // The cell may carry the dashboard's badge counting the resource's error logs beside its state.
            await Expect(row.GetByRole(AriaRole.Gridcell, new() { Name = "Running", Exact = true })).ToHaveTextAsync(RunningState(), new() { Timeout = 60_000 });
        }
        catch (PlaywrightException e)
        {
            Assert.Fail($"{resource} is not running and healthy: {(await row.CountAsync() == 1 ? await row.InnerTextAsync() : "no such row")}\n{e.Message}");
        }
    }

    /// <summary>Runs a command from the resource's actions menu and waits for the dashboard's toast to say it succeeded.</summary>
    private static async Task RunCommandAsync(IPage page, string resource, string command, ILocator? confirm = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            await ResourceRow(page, resource).GetByRole(AriaRole.Button, new() { Name = "Actions", Exact = true }).ClickAsync();
            await page.GetByRole(AriaRole.Menuitem, new() { Name = command, Exact = true }).ClickAsync();
            if (confirm is null)
            {
                break;
            }

            // A click the page took before it was interactive (a loaded machine) opens no dialog: choose the command again.
            try
            {
                await confirm.GetByText("Yes", new() { Exact = true }).ClickAsync(new() { Timeout = 15_000 });
                break;
            }
            catch (TimeoutException) when (attempt < 3)
            {
                await page.Keyboard.PressAsync("Escape");
            }
        }

        // The newest toast: the dashboard may still be animating an earlier copy of it out.
        var toast = page.GetByRole(AriaRole.Listitem).Filter(new() { HasTextRegex = new Regex($"^{resource} \"{command}\" (succeeded|failed)") }).Last;
        await Expect(toast).ToBeVisibleAsync(new() { Timeout = 120_000 });
        Assert.Equal($"{resource} \"{command}\" succeeded", (await toast.InnerTextAsync()).Trim());
    }

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(Screenshots);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name) });
    }

    private static async Task<object?> ExecuteAsync(string connectionString, string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return await command.ExecuteScalarAsync();
    }
}
