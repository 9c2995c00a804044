using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Tests.Tool;

namespace Platform.Tests.Planning;

/// <summary>The LLM planner end to end on the simulator: goals become costed plans through the model gateway.</summary>
[Collection(PlatformCollection.Name)]
public sealed class PlannerTests(PlatformFixture platform)
{
    public const string WeatherGoal = "fetch the weather for Paris, then convert 20 C to F, and summarise both";

    [Fact]
    public async Task TheSimulatorPlansTheWeatherGoalAsThreeCostedSteps()
    {
        var (_, key) = await WeatherTenantAsync();
        using var planning = platform.AppHost.Client("planning", key);

        using var response = await planning.PostAsJsonAsync("/v1/plans",
            new { goal = WeatherGoal, tools = new[] { "http.weather", "builtin.calculator" }, model = "priced" });

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        using var plan = JsonDocument.Parse(text);
        var root = plan.RootElement;
        var steps = root.GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("id").GetString()!);
        Assert.Equal(new[] { "weather", "convert", "summarise" }, steps.Keys);
        Assert.Equal("http.weather", steps["weather"].GetProperty("tool").GetString());
        Assert.Equal("Paris", steps["weather"].GetProperty("arguments").GetProperty("city").GetString());
        Assert.Equal("builtin.calculator", steps["convert"].GetProperty("tool").GetString());
        Assert.Equal("20 * 9 / 5 + 32", steps["convert"].GetProperty("arguments").GetProperty("expression").GetString());
        Assert.Equal("""["weather"]""", steps["convert"].GetProperty("dependsOn").GetRawText());
        Assert.Equal("model", steps["summarise"].GetProperty("kind").GetString());
        Assert.Equal("""["weather","convert"]""", steps["summarise"].GetProperty("dependsOn").GetRawText());
        Assert.Equal("{{steps.convert.output}}", steps["summarise"].GetProperty("arguments").GetProperty("convert").GetString());
        Assert.Equal("""[["weather"],["convert"],["summarise"]]""", root.GetProperty("layers").GetRawText());
        Assert.Equal("""["weather","convert","summarise"]""", root.GetProperty("criticalPath").GetRawText());

        var summarise = steps["summarise"].GetProperty("estimates");
        var tokens = summarise.GetProperty("tokens").GetInt32();
        Assert.Equal(Math.Round(((tokens - 800) * 3m + 800 * 15m) / 1_000_000m, 6), summarise.GetProperty("usd").GetDecimal());
        Assert.Equal(0m, steps["weather"].GetProperty("estimates").GetProperty("usd").GetDecimal());
        var totals = root.GetProperty("totals");
        Assert.Equal(summarise.GetProperty("usd").GetDecimal(), totals.GetProperty("usd").GetDecimal());
        Assert.Equal(steps.Values.Sum(s => s.GetProperty("estimates").GetProperty("durationMs").GetInt64()), totals.GetProperty("durationMs").GetInt64());

        var planner = root.GetProperty("planner");
        Assert.Equal("llm", planner.GetProperty("kind").GetString());
        Assert.Equal("priced", planner.GetProperty("model").GetString());
        Assert.Equal(1, planner.GetProperty("attempts").GetInt32());
        Assert.True(planner.GetProperty("promptTokens").GetInt32() > 0);
        Assert.True(double.Parse(response.Headers.GetValues("x-platform-planner-overhead-ms").Single(), CultureInfo.InvariantCulture) >= 0);
    }

    [Fact]
    public async Task TheSamePlanningRequestGetsTheSamePlan()
    {
        var (_, key) = await WeatherTenantAsync();
        using var planning = platform.AppHost.Client("planning", key);
        var request = new { goal = WeatherGoal, tools = new[] { "http.weather", "builtin.calculator" } };

        using var first = JsonDocument.Parse(await (await planning.PostAsJsonAsync("/v1/plans", request)).Content.ReadAsStringAsync());
        using var second = JsonDocument.Parse(await (await planning.PostAsJsonAsync("/v1/plans", request)).Content.ReadAsStringAsync());

        Assert.NotEqual(first.RootElement.GetProperty("id").GetString(), second.RootElement.GetProperty("id").GetString());
        Assert.Equal(first.RootElement.GetProperty("steps").GetRawText(), second.RootElement.GetProperty("steps").GetRawText());
    }

    [Fact]
    public async Task WithoutAToolListTheSimulatorChoosesAmongAllTheTenantsTools()
    {
        var (_, key) = await platform.NewTenantAsync("plans", "models", "tools");
        using var planning = platform.AppHost.Client("planning", key);

        using var response = await planning.PostAsJsonAsync("/v1/plans",
            new { goal = "get the current time in Europe/Paris and ask a human to approve the schedule; then draft the invitation" });

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        using var plan = JsonDocument.Parse(text);
        var steps = plan.RootElement.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(new[] { "tool", "approval", "model" }, steps.Select(s => s.GetProperty("kind").GetString()));
        Assert.Equal("builtin.current_time", steps[0].GetProperty("tool").GetString());
        Assert.Equal("Europe/Paris", steps[0].GetProperty("arguments").GetProperty("timeZone").GetString());
        Assert.Equal($"[\"{steps[1].GetProperty("id").GetString()}\"]", steps[2].GetProperty("dependsOn").GetRawText());
        Assert.Equal(2, plan.RootElement.GetProperty("layers").GetArrayLength());
    }

    [Theory]
    [InlineData(new[] { "plans" }, "tools")]
    [InlineData(new[] { "plans", "tools" }, "planner")]
    public async Task TheLlmPlannerNeedsAKeyThatMayListToolsAndCallModels(string[] scopes, string field)
    {
        var (_, key) = await platform.NewTenantAsync(scopes);
        using var planning = platform.AppHost.Client("planning", key);

        using var response = await planning.PostAsJsonAsync("/v1/plans", new { goal = WeatherGoal });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(field, problem.RootElement.GetProperty("field").GetString());
        Assert.Contains($"`{(field == "tools" ? "tools" : "models")}` scope", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATenantOverItsGatewayBudgetGetsA429WithRetryAfter()
    {
        var (tenantId, key) = await WeatherTenantAsync();
        using (var admin = platform.Admin("model"))
        {
            (await admin.PutAsJsonAsync($"/v1/budgets/tenants/{tenantId}", new { dailyUsd = 0 })).EnsureSuccessStatusCode();
        }

        using var planning = platform.AppHost.Client("planning", key);
        using var response = await planning.PostAsJsonAsync("/v1/plans", new { goal = WeatherGoal, model = "priced" });

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("daily budget", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var listed = JsonDocument.Parse(await planning.GetStringAsync("/v1/plans"));
        Assert.Equal(0, listed.RootElement.GetArrayLength());
    }

    [Fact]
    public async Task AKeyWithThePlansScopeReadsAnAliasPricesButCannotCallIt()
    {
        var (tenantId, _) = await WeatherTenantAsync();
        var plansKey = await platform.IssueKeyAsync(tenantId, "plans");
        using var model = platform.AppHost.Client("model", plansKey);

        using var details = JsonDocument.Parse(await model.GetStringAsync("/v1/models/priced"));
        using var chat = await model.PostAsJsonAsync("/v1/chat/completions", new { model = "priced", messages = new[] { new { role = "user", content = "hi" } } });
        using var unknown = await model.GetAsync("/v1/models/nothing-here");

        Assert.Equal("priced", details.RootElement.GetProperty("id").GetString());
        Assert.Equal(3m, details.RootElement.GetProperty("pricing").GetProperty("input_per_million").GetDecimal());
        Assert.Equal(15m, details.RootElement.GetProperty("pricing").GetProperty("output_per_million").GetDecimal());
        Assert.Equal(128_000, details.RootElement.GetProperty("context_window").GetInt32());
        Assert.Equal(HttpStatusCode.Forbidden, chat.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    /// <summary>A tenant (admin key) with the HTTP tool <c>http.weather</c> and the alias <c>priced</c> ($3 / $15 per million).</summary>
    private async Task<(string TenantId, string Key)> WeatherTenantAsync()
    {
        var (tenantId, key) = await platform.NewTenantAsync("admin");
        using var tools = platform.AppHost.Client("tool", key);
        (await tools.PutAsJsonAsync("/v1/tools/http.weather", ToolsTests.WeatherTool)).EnsureSuccessStatusCode();
        await PlanningTests.PricedAliasAsync(platform, key, "priced", 3, 15);
        return (tenantId, key);
    }
}
