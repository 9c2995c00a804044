using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using Platform.TestSupport;
using Platform.Tests.Tool;

namespace Platform.Tests.Planning;

/// <summary>Re-planning after a failure, revision history, tenant isolation, and plans stored before revisions existed.</summary>
[Collection(PlatformCollection.Name)]
public sealed class PlanRevisionTests(PlatformFixture platform)
{
    private static readonly object WeatherFailed = new
    {
        completed = new[] { new { stepId = "weather", output = (object)new { temperature = 21, sky = "clear" } } },
        failed = new { stepId = "convert", observation = "builtin.calculator timed out" },
    };

    [Fact]
    public async Task ARevisionKeepsCompletedStepsReplacesTheFailedOneAndSaysWhatChanged()
    {
        var (planning, id) = await WeatherPlanAsync();

        using var response = await planning.PostAsJsonAsync($"/v1/plans/{id}/revisions", WeatherFailed);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        Assert.EndsWith($"/v1/plans/{id}/revisions/2", response.Headers.Location!.ToString(), StringComparison.Ordinal);
        using var revision = JsonDocument.Parse(text);
        var root = revision.RootElement;
        Assert.Equal(2, root.GetProperty("revision").GetInt32());
        Assert.Equal("""{"added":["convert_alt"],"removed":["convert"],"changed":["summarise"]}""", root.GetProperty("changes").GetRawText());
        var steps = root.GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("id").GetString()!);
        Assert.Equal("model", steps["convert_alt"].GetProperty("kind").GetString());
        Assert.Contains("builtin.calculator timed out", steps["convert_alt"].GetProperty("instruction").GetString(), StringComparison.Ordinal);
        Assert.Equal("""["weather","convert_alt"]""", steps["summarise"].GetProperty("dependsOn").GetRawText());
        Assert.Equal("{{steps.convert_alt.output}}", steps["summarise"].GetProperty("arguments").GetProperty("convert").GetString());
        Assert.Equal("convert", root.GetProperty("failed").GetProperty("stepId").GetString());
        Assert.Equal(21, root.GetProperty("completed")[0].GetProperty("output").GetProperty("temperature").GetInt32());

        using var history = JsonDocument.Parse(await planning.GetStringAsync($"/v1/plans/{id}/revisions"));
        var revisions = history.RootElement.EnumerateArray().ToList();
        Assert.Equal(new[] { 1, 2 }, revisions.Select(r => r.GetProperty("revision").GetInt32()));
        Assert.True(JsonNode.DeepEquals(Step(revisions[0], "weather"), Step(revisions[1], "weather")));
        Assert.Contains(revisions[0].GetProperty("steps").EnumerateArray(), s => s.GetProperty("id").GetString() == "convert");
        using var latest = JsonDocument.Parse(await planning.GetStringAsync($"/v1/plans/{id}"));
        Assert.Equal(2, latest.RootElement.GetProperty("revision").GetInt32());
        using var first = JsonDocument.Parse(await planning.GetStringAsync($"/v1/plans/{id}/revisions/1"));
        Assert.Equal(JsonValueKind.Null, first.RootElement.GetProperty("changes").ValueKind);
        Assert.Equal(HttpStatusCode.NotFound, (await planning.GetAsync($"/v1/plans/{id}/revisions/3")).StatusCode);
    }

    [Fact]
    public async Task ARevisionOfAnOlderRevisionIsAConflict()
    {
        var (planning, id) = await WeatherPlanAsync();
        (await planning.PostAsJsonAsync($"/v1/plans/{id}/revisions", WeatherFailed)).EnsureSuccessStatusCode();

        using var stale = await planning.PostAsJsonAsync($"/v1/plans/{id}/revisions", new
        {
            revision = 1,
            completed = new[] { new { stepId = "weather", output = 1 } },
            failed = new { stepId = "convert", observation = "x" },
        });

        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
    }

    [Theory]
    [InlineData("""{"completed":[{"stepId":"ghost","output":1}],"failed":{"stepId":"convert","observation":"x"}}""", "completed[0].stepId")]
    [InlineData("""{"completed":[{"stepId":"convert","output":1}],"failed":{"stepId":"summarise","observation":"x"}}""", "completed[0].stepId")]
    [InlineData("""{"completed":[],"failed":{"stepId":"summarise","observation":"x"}}""", "failed.stepId")]
    [InlineData("""{"completed":[{"stepId":"weather","output":1}],"failed":{"stepId":"weather","observation":"x"}}""", "failed.stepId")]
    [InlineData("""{"completed":[{"stepId":"weather","output":1}]}""", "failed")]
    [InlineData("""{"completed":[{"stepId":"weather","output":1}],"failed":{"stepId":"convert","observation":""}}""", "failed.observation")]
    [InlineData("""{"completed":[{"stepId":"weather","output":1}],"failed":{"stepId":"convert","observation":"x"},"planner":"manual","steps":[{"id":"weather","title":"Changed","kind":"model"},{"id":"b","title":"B","kind":"model"}]}""", "steps[0]")]
    public async Task AnInvalidRevisionRequestIsA400NamingTheField(string body, string field)
    {
        var (planning, id) = await WeatherPlanAsync();

        using var response = await PlanningTests.PostAsync(planning, $"/v1/plans/{id}/revisions", body);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        using var problem = JsonDocument.Parse(text);
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), text);
        using var history = JsonDocument.Parse(await planning.GetStringAsync($"/v1/plans/{id}/revisions"));
        Assert.Equal(1, history.RootElement.GetArrayLength());
    }

    [Fact]
    public async Task AnotherTenantsPlanIsNotFoundAndItsToolsAreNotUsable()
    {
        var (planning, id) = await WeatherPlanAsync();
        var (_, otherKey) = await platform.NewTenantAsync("admin");
        using var other = platform.AppHost.Client("planning", otherKey);

        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/v1/plans/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/v1/plans/{id}/revisions")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/v1/plans/{id}/revisions/1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.PostAsJsonAsync($"/v1/plans/{id}/revisions", WeatherFailed)).StatusCode);
        using (var listed = JsonDocument.Parse(await other.GetStringAsync("/v1/plans")))
        {
            Assert.Equal(0, listed.RootElement.GetArrayLength());
        }

        using var borrowed = await other.PostAsJsonAsync("/v1/plans", new
        {
            goal = "g",
            steps = new[] { new { id = "a", title = "A", kind = "tool", tool = "http.weather", arguments = new { city = "Paris" } } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, borrowed.StatusCode);
        Assert.Contains("steps[0].tool", await borrowed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await planning.GetAsync($"/v1/plans/{id}")).StatusCode);
    }

    [Fact]
    public async Task PlansStoredBeforeRevisionsBecomeRevisionOne()
    {
        var migrations = Path.Combine(Repository.Root, "services", "planning", "Migrations");
        var database = $"planning_{Guid.NewGuid():N}";
        var server = platform.AppHost.ConnectionString("postgres");
        await using (var admin = new NpgsqlConnection(server + ";Database=postgres"))
        {
            await admin.ExecuteAsync($"CREATE DATABASE {database}");
        }

        await using var connection = new NpgsqlConnection($"{server};Database={database}");
        await connection.ExecuteAsync(await File.ReadAllTextAsync(Path.Combine(migrations, "0001_plans.sql")));
        var id = Guid.NewGuid();
        const string steps = """[{"id":"fetch","title":"Fetch the forecast","kind":"tool","dependsOn":null},{"id":"sum","title":"Summarise","kind":"model","dependsOn":["fetch"]}]""";
        await connection.ExecuteAsync("INSERT INTO plans (id, tenant_id, goal, steps, layers) VALUES (@id, 't', 'Old goal', @steps::jsonb, '[[\"fetch\"],[\"sum\"]]')",
            new { id, steps });

        await connection.ExecuteAsync(await File.ReadAllTextAsync(Path.Combine(migrations, "0002_plan_revisions.sql")));

        var row = await connection.QuerySingleAsync<(int Revision, string Steps, string Goal)>(
            "SELECT r.revision, r.steps::text, p.goal FROM plan_revisions r JOIN plans p ON p.id = r.plan_id WHERE r.plan_id = @id", new { id });
        Assert.Equal(1, row.Revision);
        Assert.Equal("Old goal", row.Goal);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(steps), JsonNode.Parse(row.Steps)));

        var (tenantId, key) = await platform.NewTenantAsync("plans");
        var legacyId = Guid.CreateVersion7();
        await using (var live = new NpgsqlConnection(platform.AppHost.ConnectionString("planningdb")))
        {
            await live.ExecuteAsync("INSERT INTO plans (id, tenant_id, goal) VALUES (@legacyId, @tenantId, 'Old goal')", new { legacyId, tenantId });
            await live.ExecuteAsync("INSERT INTO plan_revisions (plan_id, revision, tenant_id, steps, layers) VALUES (@legacyId, 1, @tenantId, @Steps::jsonb, '[[\"fetch\"],[\"sum\"]]')",
                new { legacyId, tenantId, row.Steps });
        }

        using var planning = platform.AppHost.Client("planning", key);
        using var legacy = JsonDocument.Parse(await planning.GetStringAsync($"/v1/plans/{legacyId}"));
        Assert.Equal(1, legacy.RootElement.GetProperty("revision").GetInt32());
        var first = legacy.RootElement.GetProperty("steps")[0];
        Assert.Equal("Fetch the forecast", first.GetProperty("instruction").GetString());
        Assert.Equal("[]", first.GetProperty("dependsOn").GetRawText());
        Assert.Equal("{}", first.GetProperty("arguments").GetRawText());
        Assert.Equal("manual", legacy.RootElement.GetProperty("planner").GetProperty("kind").GetString());
    }

    /// <summary>The weather example planned on the simulator by a new tenant; the client is its admin's.</summary>
    private async Task<(HttpClient Planning, string Id)> WeatherPlanAsync()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        using (var tools = platform.AppHost.Client("tool", key))
        {
            (await tools.PutAsJsonAsync("/v1/tools/http.weather", ToolsTests.WeatherTool)).EnsureSuccessStatusCode();
        }

        var planning = platform.AppHost.Client("planning", key);
        using var created = await planning.PostAsJsonAsync("/v1/plans", new { goal = PlannerTests.WeatherGoal, tools = new[] { "http.weather", "builtin.calculator" } });
        var text = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, text);
        using var plan = JsonDocument.Parse(text);
        return (planning, plan.RootElement.GetProperty("id").GetString()!);
    }

    private static JsonNode? Step(JsonElement revision, string id) =>
        JsonNode.Parse(revision.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("id").GetString() == id).GetRawText());
}
