using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace Platform.Tests.Dashboard;

/// <summary>The dashboard as an operator sees it: Debian's Chromium, headless, driven by Playwright.</summary>
[Collection(PlatformCollection.Name)]
public sealed class DashboardBrowserTests(PlatformFixture platform)
{
    private const string Interactive = ".content[data-interactive=true]";

    [Fact]
    public async Task AnOperatorSignsInAndSeesEveryServiceHealthy()
    {
        await using var session = await BrowserSession.StartAsync();
        var page = await session.NewPageAsync();
        var (tenantId, key) = await platform.NewTenantAsync("runs");

        await page.GotoAsync(Dashboard("/").ToString());
        Assert.EndsWith("/login", page.Url, StringComparison.Ordinal);
        await Screenshot(page, "login");
        await page.FillAsync("input[name=apiKey]", key);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForSelectorAsync("table[data-services]");

        Assert.Contains(tenantId, await page.TextContentAsync("[data-tenant]"), StringComparison.Ordinal);
        await page.WaitForSelectorAsync(Interactive);
        foreach (var service in new[] { "orchestrator", "planning", "model", "tool" })
        {
            // The page probes again every 5 seconds: a probe that timed out on a busy machine is followed by another.
            await Assertions.Expect(page.Locator($"tr[data-service={service}] td:nth-child(2)")).ToHaveTextAsync("Healthy", new() { Timeout = 30_000 });
        }

        await page.ClickAsync("text=Sign out");
        await page.WaitForURLAsync("**/login");
        await page.GotoAsync(Dashboard("/runs").ToString());
        Assert.EndsWith("/login", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnOperatorStartsARunAndWatchesItSucceedWithoutReloading()
    {
        var (_, key) = await platform.NewTenantAsync("runs", "agents", "tools");
        await Runs.CreateAgentAsync(platform.AppHost, key, "writer");
        await using var session = await BrowserSession.StartAsync();
        var page = await SignedInPageAsync(session, key);

        await page.GotoAsync(Dashboard("/runs").ToString());
        await page.WaitForSelectorAsync(Interactive);
        await page.SelectOptionAsync("#agent", "writer");
        await page.FillAsync("#goal", "draft a note, then write it up");
        await page.ClickAsync("#start");
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/runs/[0-9a-f-]{36}$"));
        await page.EvaluateAsync("() => window.sameDocument = true");
        await page.WaitForSelectorAsync("[data-run-state=succeeded]", new() { Timeout = 90_000 });

        Assert.True(await page.EvaluateAsync<bool>("() => window.sameDocument === true"), "The run page was reloaded.");
        Assert.Equal(2, await page.Locator("table.steps tbody tr").CountAsync());
        Assert.Equal(2, await page.Locator("svg.plan-graph g[data-step-state=succeeded]").CountAsync());
        // The simulator's plan here is a chain of two steps, so both are on the critical path, measured once both have run.
        Assert.Equal(2, await page.Locator("svg.plan-graph g.critical").CountAsync());
        Assert.Equal("measured durations", await page.GetAttributeAsync("svg.plan-graph", "data-critical-basis"));
        await page.WaitForSelectorAsync("ol.timeline li[data-event='run.succeeded']");
        await Screenshot(page, "run");

        await page.GotoAsync(Dashboard("/runs").ToString());
        await page.WaitForSelectorAsync("table.runs a[data-run]");
        await Screenshot(page, "runs");
    }

    [Fact]
    public async Task AnOperatorSeesAStepAskForApprovalWithoutReloadingAndApprovesItWithTheKeyboard()
    {
        var (tenantId, key) = await platform.NewTenantAsync("runs", "agents", "tools", "approve");
        await Runs.CreateAgentAsync(platform.AppHost, key, "approver");
        using var orchestrator = platform.AppHost.Client("orchestrator", await platform.IssueKeyAsync(tenantId, "runs"));
        await using var session = await BrowserSession.StartAsync();
        var page = await SignedInPageAsync(session, key);
        await page.GotoAsync(Dashboard("/approvals").ToString());
        await page.WaitForSelectorAsync(Interactive);
        await page.EvaluateAsync("() => window.sameDocument = true");

        var runId = (await Runs.StartAsync(orchestrator, "approver", "draft a note, then approve it with a human, then write it up")).Id();
        await Runs.WaitForAsync(orchestrator, runId, TimeSpan.FromSeconds(60), "waiting_approval");
        var card = page.Locator($"section[data-run='{runId}']");
        await card.WaitForAsync(new() { Timeout = 30_000 });
        Assert.True(await page.EvaluateAsync<bool>("() => window.sameDocument === true"), "The approvals page was reloaded.");
        await Screenshot(page, "approvals");
        await card.Locator("input").FillAsync("Looks right");
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForSelectorAsync("[role=status]");

        Assert.Equal("succeeded", (await Runs.WaitForAsync(orchestrator, runId, TimeSpan.FromSeconds(60))).State());
        await page.GotoAsync(Dashboard($"/runs/{runId}").ToString());
        await page.WaitForSelectorAsync("[data-run-state=succeeded]");
    }

    [Fact]
    public async Task AnOperatorDeniesAToolCallHeldByTheToolServiceWithAReason()
    {
        var (tenantId, key) = await platform.NewTenantAsync("admin");
        using var tool = platform.AppHost.Client("tool", key);
        (await tool.PutAsJsonAsync("/v1/tools/builtin.memory_set/policy", new { approval = new { always = true } })).EnsureSuccessStatusCode();
        using var caller = platform.AppHost.Client("tool", await platform.IssueKeyAsync(tenantId, "tools"));
        using var invoked = await caller.PostAsJsonAsync("/v1/tools/builtin.memory_set/invocations",
            new { idempotencyKey = Guid.NewGuid().ToString(), arguments = new { key = "held", value = 1 } });
        var approvalId = (await invoked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("approvalId").GetString();
        await using var session = await BrowserSession.StartAsync();
        var page = await SignedInPageAsync(session, key);

        await page.GotoAsync(Dashboard("/approvals").ToString());
        await page.WaitForSelectorAsync(Interactive);
        var card = page.Locator($"section[data-approval='{approvalId}']");
        await Assertions.Expect(card.Locator("[data-arguments]")).ToContainTextAsync("\"held\"");
        await card.Locator("input").FillAsync("Not today");
        await card.Locator(".deny").ClickAsync();
        await page.WaitForSelectorAsync("[role=status]");

        var approval = await tool.GetFromJsonAsync<JsonElement>($"/v1/approvals/{approvalId}");
        Assert.Equal("denied", approval.GetProperty("status").GetString());
        Assert.Equal("Not today", approval.GetProperty("reason").GetString());
        Assert.Equal(0, await page.Locator($"section[data-approval='{approvalId}']").CountAsync());
    }

    [Fact]
    public async Task ASecondTenantSeesNoneOfTheFirstTenantsRuns()
    {
        var (_, firstKey) = await platform.NewTenantAsync("runs", "agents", "tools");
        await Runs.CreateAgentAsync(platform.AppHost, firstKey, "private");
        using var orchestrator = platform.AppHost.Client("orchestrator", firstKey);
        var runId = (await Runs.StartAsync(orchestrator, "private", "draft a secret note")).Id();
        var (_, secondKey) = await platform.NewTenantAsync("runs", "agents", "tools");
        await using var session = await BrowserSession.StartAsync();
        var page = await SignedInPageAsync(session, secondKey);

        await page.GotoAsync(Dashboard("/runs").ToString());
        await page.WaitForSelectorAsync(Interactive);
        var body = await page.TextContentAsync("body");
        Assert.DoesNotContain("draft a secret note", body, StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("a[data-run]").CountAsync());
        await page.GotoAsync(Dashboard($"/runs/{runId}").ToString());
        await page.WaitForSelectorAsync(Interactive);
        Assert.Contains("No such run.", await page.TextContentAsync("body"), StringComparison.Ordinal);
        Assert.DoesNotContain("draft a secret note", await page.TextContentAsync("body"), StringComparison.Ordinal);
    }

    private Uri Dashboard(string path) => new(platform.AppHost.Url("dashboard"), path);

    private Task<IPage> SignedInPageAsync(BrowserSession session, string key) => session.SignedInPageAsync(Dashboard("/login"), key);

    private static Task Screenshot(IPage page, string view) => BrowserSession.ScreenshotAsync(page, view);
}
