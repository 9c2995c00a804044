using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Platform.Tests.CrossService;

namespace Platform.Tests.Dashboard;

/// <summary>The dashboard's spend, agents, tools and keys views and a platform admin's tenant switch, in Debian's Chromium.</summary>
[Collection(PlatformCollection.Name)]
public sealed class DashboardViewsBrowserTests(PlatformFixture platform)
{
    private const string Interactive = ".content[data-interactive=true]";

    [Fact]
    public async Task TheSpendChartAndTheOverviewChangeAfterRuns()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        using var model = platform.AppHost.Client("model", key);
        await PricedAgentAsync(key, "spender");
        await using var session = await BrowserSession.StartAsync();
        var page = await session.SignedInPageAsync(Dashboard("/login"), key);
        await page.GotoAsync(Dashboard("/models").ToString());
        await page.WaitForSelectorAsync(Interactive);
        var before = Cost(await page.GetAttributeAsync("svg.usage-chart", "data-total-cost"));

        using var orchestrator = platform.AppHost.Client("orchestrator", key);
        foreach (var goal in new[] { "draft a note, then write it up", "draft a greeting" })
        {
            var runId = (await Runs.StartAsync(orchestrator, "spender", goal)).Id();
            Assert.Equal("succeeded", (await Runs.WaitForAsync(orchestrator, runId, TimeSpan.FromSeconds(90))).State());
        }

        // The page reads the gateway's ledger again every 5 seconds: the new spend shows without a reload.
        await page.WaitForFunctionAsync($"() => Number(document.querySelector('svg.usage-chart').dataset.totalCost) > {before.ToString(CultureInfo.InvariantCulture)}",
            null, new() { Timeout = 30_000 });
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        // The gateway writes its ledger in batches off the request path: once it has written everything, the page catches up with it.
        await UsageLedgers.WaitUntilWrittenAsync(platform.AppHost);
        var ledger = await SpentTodayAsync(model);
        var shown = await WaitUntilAsync("the page to show the ledger's spend", TimeSpan.FromSeconds(30),
            async () => Cost(await page.GetAttributeAsync("svg.usage-chart", "data-total-cost")), cost => cost == ledger, cost => $"{cost}, the ledger {ledger}");
        Assert.True(Cost(await page.GetAttributeAsync($"svg.usage-chart g[data-day='{today}']", "data-cost")) > 0);
        await Assertions.Expect(page.Locator("table[data-usage-by=model] tr[data-model=priced]")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("tr[data-alias=priced]")).ToHaveCountAsync(1);
        await BrowserSession.ScreenshotAsync(page, "models");

        await page.GotoAsync(Dashboard("/").ToString());
        await page.WaitForSelectorAsync(Interactive);
        await Assertions.Expect(page.Locator("[data-budget=today]")).ToHaveAttributeAsync("data-spent", shown.ToString("0.000000", CultureInfo.InvariantCulture));
        await Assertions.Expect(page.Locator("svg.sparkline")).ToHaveAttributeAsync("data-total", "2");
        await Assertions.Expect(page.Locator("[data-error-rate]")).ToHaveAttributeAsync("data-error-rate", "0");
        // The run queue spans every tenant: a tenant's own admin does not see it.
        Assert.Equal(0, await page.Locator("[data-queue-depth]").CountAsync());
        await BrowserSession.ScreenshotAsync(page, "overview");
    }

    [Fact]
    public async Task AnOperatorCreatesAnAgentAndEditsItIntoANewVersionKeepingWhatTheFormDoesNotShow()
    {
        var (_, key) = await platform.NewTenantAsync("agents", "runs", "models", "tools");
        using var orchestrator = platform.AppHost.Client("orchestrator", key);
        await using var session = await BrowserSession.StartAsync();
        var page = await session.SignedInPageAsync(Dashboard("/login"), key);

        await page.GotoAsync(Dashboard("/agents").ToString());
        await page.WaitForSelectorAsync(Interactive);
        await page.FillAsync("#agent-name", "ui-writer");
        await page.FillAsync("#agent-instructions", "Write plainly.");
        await page.FillAsync("#agent-tools", "builtin.calculator");
        await page.ClickAsync("#create-agent-submit");
        await BrowserSession.WaitForUrlAfterSubmitAsync(page, "**/agents/ui-writer");
        await Assertions.Expect(page.Locator("[data-latest-version]")).ToHaveTextAsync("v1");
        await BrowserSession.ScreenshotAsync(page, "agent");

        // Another writer sets a field the form does not show; the form's edit must keep it.
        var current = (await orchestrator.GetFromJsonAsync<JsonElement>("/v1/agents/ui-writer"));
        Assert.Equal("Write plainly.", current.GetProperty("instructions").GetString());
        using (var put = await orchestrator.PutAsJsonAsync("/v1/agents/ui-writer", new
        {
            instructions = "Write plainly.", model = "simulator", tools = new[] { "builtin.calculator" }, timeouts = new { runSeconds = 123 },
        }))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        await page.ReloadAsync();
        await page.WaitForSelectorAsync(Interactive);
        await Assertions.Expect(page.Locator("[data-latest-version]")).ToHaveTextAsync("v2");
        await page.FillAsync("#agent-instructions", "Write very plainly.");
        await page.FillAsync("#agent-max-steps", "5");
        await page.ClickAsync("#edit-agent-submit");
        await page.WaitForSelectorAsync("[role=status]");

        var written = await orchestrator.GetFromJsonAsync<JsonElement>("/v1/agents/ui-writer");
        Assert.Equal(3, written.GetProperty("version").GetInt32());
        Assert.Equal("Write very plainly.", written.GetProperty("instructions").GetString());
        Assert.Equal(5, written.GetProperty("maxSteps").GetInt32());
        Assert.Equal(123, written.GetProperty("timeouts").GetProperty("runSeconds").GetInt32());
        await Assertions.Expect(page.Locator("table[data-versions] tbody tr")).ToHaveCountAsync(3);

        await page.GotoAsync(Dashboard("/agents").ToString());
        await Assertions.Expect(page.Locator("tr[data-agent=ui-writer] [data-version]")).ToHaveTextAsync("v3");
        await BrowserSession.ScreenshotAsync(page, "agents");
    }

    [Fact]
    public async Task TheToolsViewShowsTheRegistryAndEachCallInTheLog()
    {
        var (_, key) = await platform.NewTenantAsync("tools");
        await using var session = await BrowserSession.StartAsync();
        var page = await session.SignedInPageAsync(Dashboard("/login"), key);
        await page.GotoAsync(Dashboard("/tools").ToString());
        await page.WaitForSelectorAsync(Interactive);
        await Assertions.Expect(page.Locator("tr[data-tool='builtin.calculator']")).ToHaveCountAsync(1);

        using var tool = platform.AppHost.Client("tool", key);
        var invocationId = (await TenantSwitchTests.InvokeCalculatorAsync(tool)).GetProperty("id").GetString();

        var row = page.Locator($"tr[data-invocation='{invocationId}']");
        await Assertions.Expect(row).ToHaveAttributeAsync("data-invocation-status", "succeeded", new() { Timeout = 30_000 });
        Assert.Contains("42", await row.TextContentAsync(), StringComparison.Ordinal);
        Assert.Equal("{\"expression\":\"6 * 7\"}", await row.Locator("[data-arguments]").TextContentAsync());
        await BrowserSession.ScreenshotAsync(page, "tools");
    }

    [Fact]
    public async Task AnAdminIssuesAKeyThatIsShownOnceAndRevokesIt()
    {
        var (_, adminKey) = await platform.NewTenantAsync("admin");
        await using var session = await BrowserSession.StartAsync();
        var page = await session.SignedInPageAsync(Dashboard("/login"), adminKey);
        await page.GotoAsync(Dashboard("/keys").ToString());
        await page.WaitForSelectorAsync(Interactive);

        await page.FillAsync("#key-name", "ci pipeline");
        await page.GetByLabel("agents", new() { Exact = true }).CheckAsync();
        await page.ClickAsync("#issue");
        var issued = await page.Locator("[data-issued-key]").TextContentAsync();
        Assert.StartsWith("plt_", issued, StringComparison.Ordinal);
        using var withIssued = platform.AppHost.Client("orchestrator", issued);
        var me = await withIssued.GetFromJsonAsync<JsonElement>("/v1/me");
        Assert.Equal(["agents", "runs"], me.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()).Order());
        await BrowserSession.ScreenshotAsync(page, "keys");

        var keyId = me.GetProperty("keyId").GetString();
        await page.ReloadAsync();
        await page.WaitForSelectorAsync(Interactive);
        await Assertions.Expect(page.Locator($"tr[data-key-id='{keyId}']")).ToHaveCountAsync(1);
        Assert.Equal(0, await page.Locator("[data-issued-key]").CountAsync());
        Assert.DoesNotContain(issued!, await page.ContentAsync(), StringComparison.Ordinal);
        await page.Locator($"tr[data-key-id='{keyId}'] .revoke").ClickAsync();
        await Assertions.Expect(page.Locator($"tr[data-key-id='{keyId}']")).ToHaveCountAsync(0);
        await page.GetByLabel("Show revoked keys").CheckAsync();
        await Assertions.Expect(page.Locator($"tr[data-key-id='{keyId}']")).ToHaveAttributeAsync("data-key-state", "revoked");
        await WaitUntilAsync("the key revoked on the page to be refused", TimeSpan.FromSeconds(15), async () => (await withIssued.GetAsync("/v1/me")).StatusCode,
            status => status == HttpStatusCode.Unauthorized, status => $"{(int)status}");
    }

    [Fact]
    public async Task APlatformAdminSwitchesToATenantAndSeesItsRunsAndEveryTenantsSpend()
    {
        var (tenantId, key) = await platform.NewTenantAsync("admin");
        var spent = await RunPricedAsync(key, "switched");
        using var orchestrator = platform.AppHost.Client("orchestrator", key);
        var runId = (await orchestrator.GetFromJsonAsync<JsonElement[]>("/v1/runs"))!.Single().Id();
        await using var session = await BrowserSession.StartAsync();
        var page = await session.SignedInPageAsync(Dashboard("/login"), platform.AppHost.AdminApiKey);
        await page.GotoAsync(Dashboard("/runs").ToString());
        await page.WaitForSelectorAsync(Interactive);

        await page.SelectOptionAsync("#tenant-switch", tenantId);
        await page.ClickAsync("#switch-tenant");
        await Assertions.Expect(page.Locator("[data-tenant]")).ToHaveTextAsync(tenantId);
        await page.WaitForSelectorAsync(Interactive);
        await page.Locator($"a[data-run='{runId}']").WaitForAsync();

        await page.GotoAsync(Dashboard("/keys").ToString());
        await page.WaitForSelectorAsync(Interactive);
        await Assertions.Expect(page.Locator("[data-keys-tenant]")).ToHaveTextAsync(tenantId);
        await Assertions.Expect(page.Locator($"tr[data-tenant-row='{tenantId}'] [data-spent-today]"))
            .ToHaveAttributeAsync("data-spent-today", spent.ToString("0.000000", CultureInfo.InvariantCulture));
        await BrowserSession.ScreenshotAsync(page, "tenants");

        await page.GotoAsync(Dashboard("/").ToString());
        await page.WaitForSelectorAsync(Interactive);
        await Assertions.Expect(page.Locator("[data-queue-depth]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[0-9]+$"));

        await page.SelectOptionAsync("#tenant-switch", "system");
        await page.ClickAsync("#switch-tenant");
        await Assertions.Expect(page.Locator("[data-tenant]")).ToHaveTextAsync("system");
    }

    private Uri Dashboard(string path) => new(platform.AppHost.Url("dashboard"), path);

    /// <summary>An agent on the tenant's own alias "priced": the simulator, at 100 USD per million tokens either way.</summary>
    private async Task PricedAgentAsync(string adminKey, string agent)
    {
        using var model = platform.AppHost.Client("model", adminKey);
        (await model.PutAsJsonAsync("/v1/catalog/priced", new
        {
            strategy = "ordered",
            deployments = new[] { new { provider = "simulator", model = "platform-simulator-1", inputPricePerMillion = 100, outputPricePerMillion = 100 } },
        })).EnsureSuccessStatusCode();
        await Runs.CreateAgentAsync(platform.AppHost, adminKey, agent, new { model = "priced" });
    }

    /// <summary>A priced run to its end; answers the tenant's spend today once the gateway's ledger (written in batches) holds all of it.</summary>
    private async Task<decimal> RunPricedAsync(string adminKey, string agent)
    {
        await PricedAgentAsync(adminKey, agent);
        using var model = platform.AppHost.Client("model", adminKey);
        using var orchestrator = platform.AppHost.Client("orchestrator", adminKey);
        var runId = (await Runs.StartAsync(orchestrator, agent, "draft a note")).Id();
        Assert.Equal("succeeded", (await Runs.WaitForAsync(orchestrator, runId, TimeSpan.FromSeconds(90))).State());
        await UsageLedgers.WaitUntilWrittenAsync(platform.AppHost);
        var spent = await SpentTodayAsync(model);
        Assert.True(spent > 0, "The gateway's ledger holds no spend for the run.");
        return spent;
    }

    private static async Task<decimal> SpentTodayAsync(HttpClient model)
    {
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return (await model.GetFromJsonAsync<JsonElement>($"/v1/usage?from={today}&to={today}")).GetProperty("data").EnumerateArray()
            .Sum(r => r.GetProperty("costUsd").GetDecimal());
    }

    private static decimal Cost(string? value) => decimal.Parse(value ?? "0", CultureInfo.InvariantCulture);
}
