using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Platform.Tests.Planning;

/// <summary>Plans whose steps the caller wrote (the manual planner): every rule a plan is held to, each named by field.</summary>
[Collection(PlatformCollection.Name)]
public sealed class PlanningTests(PlatformFixture platform)
{
    public const string ValidPlan = """
        {
          "goal": "Summarise the weather",
          "planner": "manual",
          "steps": [
            { "id": "fetch", "title": "Read the time", "kind": "tool", "tool": "builtin.current_time", "arguments": { "timeZone": "Europe/Paris" } },
            { "id": "history", "title": "Add up", "kind": "tool", "tool": "builtin.calculator", "arguments": { "expression": "1 + 1" } },
            { "id": "summarise", "title": "Summarise both", "kind": "model", "dependsOn": ["fetch", "history"],
              "arguments": { "now": "{{steps.fetch.output}}", "sum": "{{steps.history.output.value}}" }, "acceptance": "Mentions both." },
            { "id": "approve", "title": "Approve sending", "kind": "approval", "dependsOn": ["summarise"] }
          ]
        }
        """;

    [Fact]
    public async Task AValidPlanIsStoredWithParallelLayersCriticalPathAndEstimates()
    {
        var (_, key) = await platform.NewTenantAsync("plans", "tools");
        using var planning = platform.AppHost.Client("planning", key);

        using var created = await PostAsync(planning, "/v1/plans", ValidPlan);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var plan = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var root = plan.RootElement;
        Assert.Equal("""[["fetch","history"],["summarise"],["approve"]]""", root.GetProperty("layers").GetRawText());
        Assert.Equal("""["fetch","summarise","approve"]""", root.GetProperty("criticalPath").GetRawText());
        Assert.Equal(1, root.GetProperty("revision").GetInt32());
        Assert.Equal("manual", root.GetProperty("planner").GetProperty("kind").GetString());
        var steps = root.GetProperty("steps").EnumerateArray().ToList();
        Assert.All(steps, s => Assert.True(s.GetProperty("estimates").GetProperty("durationMs").GetInt32() > 0));
        Assert.Equal(steps.Sum(s => s.GetProperty("estimates").GetProperty("tokens").GetInt32()), root.GetProperty("totals").GetProperty("tokens").GetInt32());
        Assert.Equal(
            new[] { "fetch", "summarise", "approve" }.Sum(id => steps.Single(s => s.GetProperty("id").GetString() == id).GetProperty("estimates").GetProperty("durationMs").GetInt64()),
            root.GetProperty("totals").GetProperty("durationMs").GetInt64());
        Assert.Equal("Summarise both", steps[2].GetProperty("instruction").GetString());
        using var fetched = JsonDocument.Parse(await planning.GetStringAsync(created.Headers.Location));
        Assert.Equal(root.GetProperty("id").GetString(), fetched.RootElement.GetProperty("id").GetString());
        using var listed = JsonDocument.Parse(await planning.GetStringAsync("/v1/plans"));
        Assert.Equal(1, listed.RootElement.GetArrayLength());
    }

    [Theory]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"A","kind":"model","dependsOn":["b"]},{"id":"b","title":"B","kind":"model","dependsOn":["a"]}]}""", "steps[0].dependsOn")]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"A","kind":"model","dependsOn":["a"]}]}""", "steps[0].dependsOn")]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"A","kind":"model","dependsOn":["ghost"]}]}""", "steps[0].dependsOn")]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"A","kind":"model"},{"id":"a","title":"B","kind":"model"}]}""", "steps[1].id")]
    [InlineData("""{"goal":"g","steps":[{"id":"a b","title":"A","kind":"model"}]}""", "steps[0].id")]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"A","kind":"dance"}]}""", "steps[0].kind")]
    [InlineData("""{"goal":"g","steps":[]}""", "steps")]
    [InlineData("""{"steps":[{"id":"a","title":"A","kind":"model"}]}""", "goal")]
    [InlineData("""{"goal":"g","constraints":{"maxSteps":1},"steps":[{"id":"a","title":"A","kind":"model"},{"id":"b","title":"B","kind":"model"}]}""", "steps")]
    [InlineData("""{"goal":"g","constraints":{"maxSteps":0},"steps":[{"id":"a","title":"A","kind":"model"}]}""", "constraints.maxSteps")]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"A","kind":"tool"}]}""", "steps[0].tool")]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"A","kind":"tool","tool":"builtin.teleport"}]}""", "steps[0].tool")]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"A","kind":"model","tool":"builtin.calculator"}]}""", "steps[0].tool")]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"A","kind":"tool","tool":"builtin.calculator","arguments":{"expr":"1"}}]}""", "steps[0].arguments")]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"A","kind":"tool","tool":"builtin.calculator","arguments":{"expression":5}}]}""", "steps[0].arguments")]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"A","kind":"model","arguments":"text"}]}""", "steps[0].arguments")]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"A","kind":"model"},{"id":"b","title":"B","kind":"model","arguments":{"x":"{{steps.ghost.output}}"}}]}""", "steps[1].arguments")]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"A","kind":"model"},{"id":"b","title":"B","kind":"model","arguments":{"x":"{{steps.a.output}}"}}]}""", "steps[1].arguments")]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"A","kind":"model"},{"id":"b","title":"B","kind":"model","dependsOn":["a"],"arguments":{"x":"{{steps.a}}"}}]}""", "steps[1].arguments")]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"A","kind":"model","instruction":"Use {{steps.b.output}}"},{"id":"b","title":"B","kind":"model","dependsOn":["a"]}]}""", "steps[0].instruction")]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"Pay \u202Eredro\u202C","kind":"model"}]}""", "steps[0].title")]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"Line\u0007bell","kind":"model"}]}""", "steps[0].title")]
    [InlineData("""{"goal":"g","planner":"llm","steps":[{"id":"a","title":"A","kind":"model"}]}""", "steps")]
    [InlineData("""{"goal":"g","planner":"magic","steps":[{"id":"a","title":"A","kind":"model"}]}""", "planner")]
    [InlineData("""{"goal":"g","model":"../catalog","steps":[{"id":"a","title":"A","kind":"model"}]}""", "model")]
    [InlineData("""{"goal":"g","model":"no-such-alias","steps":[{"id":"a","title":"A","kind":"model"}]}""", "model")]
    [InlineData("""{"goal":"g","tools":["builtin.teleport"],"steps":[{"id":"a","title":"A","kind":"tool","tool":"builtin.calculator","arguments":{"expression":"1"}}]}""", "tools[0]")]
    [InlineData("""{"goal":"g","tools":["builtin.current_time"],"steps":[{"id":"a","title":"A","kind":"tool","tool":"builtin.calculator","arguments":{"expression":"1"}}]}""", "steps[0].tool")]
    [InlineData("""{"goal":"g","constraints":{"deadline":"2001-01-01T00:00:00Z"},"steps":[{"id":"a","title":"A","kind":"model"}]}""", "constraints.deadline")]
    [InlineData("""{"goal":"g","constraints":{"budgetUsd":-1},"steps":[{"id":"a","title":"A","kind":"model"}]}""", "constraints.budgetUsd")]
    public async Task AnInvalidPlanIsA400NamingTheField(string body, string field)
    {
        using var planning = platform.Admin("planning");

        using var response = await PostAsync(planning, "/v1/plans", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        using var problem = JsonDocument.Parse(text);
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), text);
    }

    [Theory]
    [InlineData("title", 200)]
    [InlineData("instruction", 4000)]
    [InlineData("acceptance", 1000)]
    public async Task StepTextIsCappedAtItsLength(string field, int length)
    {
        using var planning = platform.Admin("planning");
        var step = new Dictionary<string, object> { ["id"] = "a", ["title"] = "A", ["kind"] = "model" };

        step[field] = new string('x', length);
        using var fits = await planning.PostAsJsonAsync("/v1/plans", new { goal = "g", steps = new[] { step } });
        step[field] = new string('x', length + 1);
        using var tooLong = await planning.PostAsJsonAsync("/v1/plans", new { goal = "g", steps = new[] { step } });

        Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Contains($"steps[0].{field}", await tooLong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task APlanOverItsBudgetIsRefusedWithTheCostliestSteps()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await PricedAliasAsync(platform, key, "priced", 1000, 1000);
        using var planning = platform.AppHost.Client("planning", key);
        var plan = new
        {
            goal = "g",
            model = "priced",
            constraints = new { budgetUsd = 0.5 },
            steps = new[] { new { id = "write", title = "Write", kind = "model" }, new { id = "check", title = "Check", kind = "model" } },
        };

        using var response = await planning.PostAsJsonAsync("/v1/plans", plan);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("constraints.budgetUsd", text, StringComparison.Ordinal);
        Assert.Contains("write $", text, StringComparison.Ordinal);
        using var listed = JsonDocument.Parse(await planning.GetStringAsync("/v1/plans"));
        Assert.Equal(0, listed.RootElement.GetArrayLength());
    }

    [Fact]
    public async Task APlanWhoseCriticalPathEndsAfterTheDeadlineIsRefused()
    {
        using var planning = platform.Admin("planning");
        var deadline = DateTimeOffset.UtcNow.AddMinutes(5);

        using var response = await planning.PostAsJsonAsync("/v1/plans", new
        {
            goal = "g",
            constraints = new { deadline },
            steps = new[] { new { id = "approve", title = "Approve", kind = "approval" } },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("constraints.deadline", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ToolStepsNeedAKeyThatMayListTools()
    {
        var (_, key) = await platform.NewTenantAsync("plans");
        using var planning = platform.AppHost.Client("planning", key);

        using var withTools = await PostAsync(planning, "/v1/plans", ValidPlan);
        using var withoutTools = await planning.PostAsJsonAsync("/v1/plans", new { goal = "g", steps = new[] { new { id = "a", title = "A", kind = "model" } } });

        Assert.Equal(HttpStatusCode.Forbidden, withTools.StatusCode);
        using var problem = JsonDocument.Parse(await withTools.Content.ReadAsStringAsync());
        Assert.Equal("tools", problem.RootElement.GetProperty("field").GetString());
        Assert.Contains("`tools` scope", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, withoutTools.StatusCode);
    }

    [Fact]
    public async Task AnUnknownPlanIsNotFound()
    {
        using var planning = platform.Admin("planning");

        Assert.Equal(HttpStatusCode.NotFound, (await planning.GetAsync($"/v1/plans/{Guid.NewGuid()}")).StatusCode);
    }

    public static Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string json) =>
        client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    /// <summary>A tenant alias served by the simulator at the given prices per million input and output tokens.</summary>
    internal static async Task PricedAliasAsync(PlatformFixture platform, string adminKey, string alias, decimal inputPrice, decimal outputPrice)
    {
        using var model = platform.AppHost.Client("model", adminKey);
        (await model.PutAsJsonAsync($"/v1/catalog/{alias}", new
        {
            strategy = "ordered",
            deployments = new[] { new { provider = "simulator", model = "platform-simulator-1", inputPricePerMillion = inputPrice, outputPricePerMillion = outputPrice } },
        })).EnsureSuccessStatusCode();
    }
}
