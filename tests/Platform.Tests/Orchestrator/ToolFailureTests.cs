using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;
using Platform.Tests.Tool;

namespace Platform.Tests.Orchestrator;

/// <summary>
/// A tool call that can only fail the same way is planned around after one attempt; one that may pass is tried again;
/// the tool service's answer says which is which, and the simulator calculates only what a clause holds.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class ToolFailureTests(PlatformFixture platform) : IAsyncLifetime
{
    private const string Calculator = "builtin.calculator";
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(90);
    private CountingServer _server = null!;

    public async Task InitializeAsync() => _server = await CountingServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task AnInvocationSaysWhyItFailedAndWhetherTheSameCallMaySucceedLater()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        using var tool = platform.AppHost.Client("tool", key);
        await platform.AppHost.GrantPrivateAsync(key, _server.Url.ToString());
        (await tool.PutAsJsonAsync("/v1/tools/http.flaky", new
        {
            description = "Answers 503 while failing",
            sideEffect = "read_only",
            parameters = new { type = "object" },
            http = new { method = "POST", url = $"{_server.Url}flaky" },
        })).EnsureSuccessStatusCode();
        _server.Failing = true;

        using var invalid = await tool.PostAsJsonAsync($"/v1/tools/{Calculator}/invocations", new { idempotencyKey = Guid.NewGuid().ToString(), arguments = new { } });
        var unevaluable = await InvocationTests.InvokeAsync(tool, Calculator, new { expression = "add 100 to the result" });
        var unavailable = await InvocationTests.InvokeAsync(tool, "http.flaky", new { });

        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var problem = await invalid.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("invalid_arguments", problem.GetProperty("code").GetString());
        Assert.False(problem.GetProperty("retryable").GetBoolean());
        Assert.Equal(("failed", "arguments_rejected", false), Failure(unevaluable));
        Assert.Equal(("failed", "tool_failed", true), Failure(unavailable));
        var recorded = await tool.GetFromJsonAsync<JsonElement>($"/v1/invocations/{unevaluable.GetProperty("id").GetString()}");
        Assert.Equal(("failed", "arguments_rejected", false), Failure(recorded));
    }

    [Theory]
    [InlineData(2, "succeeded")]
    [InlineData(0, "failed")]
    public async Task ACalculationThatCannotBeEvaluatedIsCalledOnceThenPlannedAroundOrFailsTheRun(int maxReplans, string state)
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await Runs.CreateAgentAsync(platform.AppHost, key, "calc", new { maxReplans }, Calculator);
        using var orchestrator = platform.AppHost.Client("orchestrator", key);
        using var tool = platform.AppHost.Client("tool", key);

        var started = await Runs.StartAsync(orchestrator, "calc", "compute 7 / 0, then write a note about it");
        var run = await Runs.WaitForAsync(orchestrator, started.Id(), RunTimeout);

        Assert.True(run.State() == state, run.ToString());
        var calls = (await tool.GetFromJsonAsync<JsonElement>("/v1/invocations?limit=50")).EnumerateArray()
            .Where(i => i.GetProperty("tool").GetString() == Calculator).ToList();
        Assert.Equal(("failed", "arguments_rejected", false), Failure(Assert.Single(calls)));
        var events = await EventsAsync(started.Id());
        Assert.DoesNotContain(events, e => e.Type == "step.retrying");
        var failed = Assert.Single(events, e => e.Type == "step.failed");
        Assert.Equal(calls[0].GetProperty("stepId").GetString(), failed.StepId);
        Assert.False(failed.Data.GetProperty("retryable").GetBoolean());
        Assert.False(failed.Data.GetProperty("final").GetBoolean());
        Assert.Equal(maxReplans > 0, events.Any(e => e.Type == "run.replanned"));
    }

    [Fact]
    public async Task ATransientToolFailureIsTriedAgainAndTheRunGoesOn()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await Runs.AddRecordToolAsync(platform.AppHost, key, _server, path: "flaky");
        await Runs.CreateAgentAsync(platform.AppHost, key, "patient", new { retries = new { maxAttempts = 3, backoffSeconds = 0 } }, Runs.RecordTool);
        using var orchestrator = platform.AppHost.Client("orchestrator", key);
        using var tool = platform.AppHost.Client("tool", key);
        _server.FailNext(1);

        var started = await Runs.StartAsync(orchestrator, "patient", Runs.ThreeStepGoal("token-transient"));
        var run = await Runs.WaitForAsync(orchestrator, started.Id(), RunTimeout);

        Assert.True(run.State() == "succeeded", run.ToString());
        Assert.Equal(0, run.GetProperty("replans").GetInt32());
        var calls = (await tool.GetFromJsonAsync<JsonElement>("/v1/invocations?limit=50")).EnumerateArray()
            .Where(i => i.GetProperty("tool").GetString() == Runs.RecordTool).OrderBy(i => i.GetProperty("createdAt").GetDateTime()).ToList();
        Assert.Equal(2, calls.Count);
        Assert.Equal(("failed", "tool_failed", true), Failure(calls[0]));
        Assert.Equal("succeeded", calls[1].GetProperty("status").GetString());
        var events = await EventsAsync(started.Id());
        var retrying = Assert.Single(events, e => e.Type == "step.retrying");
        Assert.Equal(calls[0].GetProperty("stepId").GetString(), retrying.StepId);
        Assert.Contains(events, e => e.Type == "step.succeeded" && e.StepId == retrying.StepId);
        Assert.DoesNotContain(events, e => e.Type == "step.failed");
    }

    [Fact]
    public async Task TheSimulatorCalculatesOnThePreviousResultByReferenceAndTheRunAddsItUp()
    {
        const string goal = "compute 12 * 7, then add 100 to the result";
        var (_, key) = await platform.NewTenantAsync("admin");
        await Runs.CreateAgentAsync(platform.AppHost, key, "calc", null, Calculator);
        using var planning = platform.AppHost.Client("planning", key);
        using var orchestrator = platform.AppHost.Client("orchestrator", key);

        var steps = await PlanAsync(planning, goal);
        var run = await Runs.WaitForAsync(orchestrator, (await Runs.StartAsync(orchestrator, "calc", goal)).Id(), RunTimeout);

        Assert.Equal(2, steps.Count);
        var first = steps[0].GetProperty("id").GetString();
        Assert.Equal("12 * 7", steps[0].GetProperty("arguments").GetProperty("expression").GetString());
        Assert.Equal(Calculator, steps[1].GetProperty("tool").GetString());
        Assert.Equal($"{{{{steps.{first}.output.value}}}} + 100", steps[1].GetProperty("arguments").GetProperty("expression").GetString());
        Assert.Equal($"[\"{first}\"]", steps[1].GetProperty("dependsOn").GetRawText());
        Assert.True(run.State() == "succeeded", run.ToString());
        Assert.Equal(0, run.GetProperty("replans").GetInt32());
        Assert.Equal(184, run.GetProperty("output").GetProperty("value").GetDouble());
    }

    [Fact]
    public async Task AClauseWithoutArithmeticIsAModelStepNotACalculation()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        using var planning = platform.AppHost.Client("planning", key);

        var steps = await PlanAsync(planning, "compute 12 * 7, then add a thank-you note, then write a confirmation");

        Assert.Equal(new[] { "tool", "model", "model" }, steps.Select(s => s.GetProperty("kind").GetString()));
        Assert.Equal(Calculator, steps[0].GetProperty("tool").GetString());
        Assert.All(steps.Skip(1), s => Assert.False(s.TryGetProperty("tool", out var tool) && tool.ValueKind == JsonValueKind.String, s.ToString()));
    }

    private static (string? Status, string? Code, bool? Retryable) Failure(JsonElement invocation) => (
        invocation.GetProperty("status").GetString(),
        invocation.GetProperty("errorCode").GetString(),
        invocation.GetProperty("retryable").ValueKind == JsonValueKind.Null ? null : invocation.GetProperty("retryable").GetBoolean());

    private static async Task<List<JsonElement>> PlanAsync(HttpClient planning, string goal)
    {
        using var response = await planning.PostAsJsonAsync("/v1/plans", new { goal, tools = new[] { Calculator } });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        return [.. JsonDocument.Parse(text).RootElement.GetProperty("steps").EnumerateArray().Select(s => s.Clone())];
    }

    private async Task<List<(string Type, string? StepId, JsonElement Data)>> EventsAsync(string runId)
    {
        await using var connection = new NpgsqlConnection(platform.AppHost.ConnectionString("orchestratordb"));
        var rows = await connection.QueryAsync<(string Type, string? StepId, string Data)>(
            "SELECT type, step_id, data::text FROM run_events WHERE run_id = @runId::uuid ORDER BY seq", new { runId });
        return [.. rows.Select(r => (r.Type, r.StepId, JsonDocument.Parse(r.Data).RootElement.Clone()))];
    }
}
