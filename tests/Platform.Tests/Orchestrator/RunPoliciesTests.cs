using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace Platform.Tests.Orchestrator;

/// <summary>What an agent asks of its runs beyond the happy path: re-planning, compensation, a fallback model, and the react loop.</summary>
[Collection(PlatformCollection.Name)]
public sealed class RunPoliciesTests(PlatformFixture platform) : IAsyncLifetime
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(90);
    private CountingServer _server = null!;

    public async Task InitializeAsync() => _server = await CountingServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task AStepThatFailsForGoodIsPlannedAroundAndTheRunGoesOn()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await Runs.AddRecordToolAsync(platform.AppHost, key, _server, path: "flaky");
        await Runs.CreateAgentAsync(platform.AppHost, key, "persistent", new { retries = new { maxAttempts = 1, backoffSeconds = 0 } }, Runs.RecordTool);
        using var orchestrator = platform.AppHost.Client("orchestrator", key);
        _server.FailNext(1);

        var started = await Runs.StartAsync(orchestrator, "persistent", Runs.ThreeStepGoal("token-replanned"));
        var run = await Runs.WaitForAsync(orchestrator, started.Id(), RunTimeout);

        Assert.True(run.State() == "succeeded", run.ToString());
        Assert.Equal(1, run.GetProperty("replans").GetInt32());
        Assert.Equal(2, run.GetProperty("planRevision").GetInt32());
        var types = await EventTypesAsync(started.Id());
        Assert.Equal(1, types.Count(t => t == "step.failed"));
        Assert.Equal(1, types.Count(t => t == "run.replanned"));
        Assert.True(types.IndexOf("step.failed") < types.IndexOf("run.replanned"));

        // The step before the failure ran once: the revision kept it as it was, and put another in place of the failed one.
        Assert.Equal(1, run.Steps().First().GetProperty("attempts").GetInt32());
        var failed = run.Steps().Single(s => s.GetProperty("state").GetString() == "superseded");
        Assert.Equal("tool", failed.GetProperty("kind").GetString());
        Assert.Contains(run.Steps(), s => s.GetProperty("id").GetString()!.StartsWith(failed.GetProperty("id").GetString()!, StringComparison.Ordinal)
            && s.GetProperty("state").GetString() == "succeeded" && s.GetProperty("id").GetString() != failed.GetProperty("id").GetString());
    }

    [Fact]
    public async Task AnAgentThatDoesNotReplanFailsWithTheStepsReason()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await Runs.AddRecordToolAsync(platform.AppHost, key, _server, path: "flaky");
        await Runs.CreateAgentAsync(platform.AppHost, key, "literal", new { retries = new { maxAttempts = 2, backoffSeconds = 0 }, maxReplans = 0 }, Runs.RecordTool);
        using var orchestrator = platform.AppHost.Client("orchestrator", key);
        _server.FailNext(2);

        var started = await Runs.StartAsync(orchestrator, "literal", Runs.ThreeStepGoal("token-literal"));
        var run = await Runs.WaitForAsync(orchestrator, started.Id(), RunTimeout);

        Assert.Equal("failed", run.State());
        Assert.Equal(0, run.GetProperty("replans").GetInt32());
        Assert.Contains("503", run.GetProperty("reason").GetString());
        var types = await EventTypesAsync(started.Id());
        Assert.Equal(1, types.Count(t => t == "step.retrying"));
        Assert.DoesNotContain("run.replanned", types);
    }

    [Fact]
    public async Task ADeniedApprovalFailsTheRunWithTheReasonAndUndoesTheStepsBeforeItNewestFirst()
    {
        var (tenantId, key) = await platform.NewTenantAsync("admin");
        await Runs.AddRecordToolAsync(platform.AppHost, key, _server);
        await Runs.AddRecordToolAsync(platform.AppHost, key, _server, path: "undo", name: "http.undo");
        await Runs.CreateAgentAsync(platform.AppHost, key, "saga", new
        {
            compensations = new Dictionary<string, object> { [Runs.RecordTool] = new { tool = "http.undo", arguments = new { run = "undo {{arguments.run}} #{{output.count}}" } } },
        }, Runs.RecordTool);
        using var orchestrator = platform.AppHost.Client("orchestrator", key);

        var started = await Runs.StartAsync(orchestrator, "saga", "record \"first-saga\" with the counter, then record \"second-saga\" with the counter, then approve it with a human");
        var parked = await Runs.WaitForAsync(orchestrator, started.Id(), RunTimeout, "waiting_approval");
        var gate = parked.Steps().Single(s => s.GetProperty("kind").GetString() == "approval").GetProperty("id").GetString();
        using var approver = platform.AppHost.Client("orchestrator", await platform.IssueKeyAsync(tenantId, "approve"));
        (await approver.PostAsJsonAsync($"/v1/runs/{started.Id()}/steps/{gate}/deny", new { reason = "wrong customer" })).EnsureSuccessStatusCode();
        var run = await Runs.WaitForAsync(orchestrator, started.Id(), RunTimeout);

        Assert.Equal("failed", run.State());
        Assert.Contains("wrong customer", run.GetProperty("reason").GetString());
        Assert.Equal(0, run.GetProperty("replans").GetInt32());
        var undone = _server.UndoneByRun.Keys.Where(k => k.Contains("-saga", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, undone.Count);
        Assert.All(undone, k => Assert.Equal(1, _server.UndoneByRun[k]));
        var tools = run.Steps().Where(s => s.GetProperty("kind").GetString() == "tool").ToList();
        Assert.All(tools, s => Assert.Equal("succeeded", s.GetProperty("compensation").GetProperty("state").GetString()));
        Assert.Contains(undone, k => k.StartsWith("undo first-saga #", StringComparison.Ordinal));

        // Newest first: the second record is undone before the first.
        await using var connection = new NpgsqlConnection(platform.AppHost.ConnectionString("orchestratordb"));
        var compensated = (await connection.QueryAsync<string>(
            "SELECT step_id FROM run_events WHERE run_id = @id::uuid AND type = 'step.compensated' ORDER BY seq", new { id = started.Id() })).ToList();
        var order = tools.Select(s => s.GetProperty("id").GetString()!).Reverse().ToList();
        Assert.Equal(order, compensated);
    }

    [Fact]
    public async Task AModelStepFallsBackToTheAgentsFallbackModelWhenItsModelCannotAnswer()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        var closedPort = ClosedPort();
        await platform.AppHost.GrantPrivateAsync(key, $"http://127.0.0.1:{closedPort}");
        using (var model = platform.AppHost.Client("model", key))
        {
            (await model.PutAsJsonAsync("/v1/catalog/unreachable", new
            {
                strategy = "ordered",
                deployments = new[] { new { provider = "openai", model = "gpt-down", baseUrl = $"http://127.0.0.1:{closedPort}/v1", apiKey = "sk-test" } },
            })).EnsureSuccessStatusCode();
        }

        await Runs.CreateAgentAsync(platform.AppHost, key, "resilient", new { model = "unreachable", fallbackModel = "simulator", retries = new { maxAttempts = 1, backoffSeconds = 0 } });
        using var orchestrator = platform.AppHost.Client("orchestrator", key);

        var started = await Runs.StartAsync(orchestrator, "resilient", "write a haiku about autumn");
        var run = await Runs.WaitForAsync(orchestrator, started.Id(), RunTimeout);

        Assert.True(run.State() == "succeeded", run.ToString());
        Assert.All(run.Steps(), s => Assert.Equal("simulator", s.GetProperty("attemptLog")[0].GetProperty("model").GetString()));
    }

    [Fact]
    public async Task AnAnswerThatFailsItsAcceptanceCheckIsPlannedAroundAndBothCallsArePaid()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await using var upstream = await FakeUpstream.StartAsync();
        var judge = $"scripted-{Guid.NewGuid():N}"[..24];
        upstream.Script(judge, """{"verdict":"fail","reason":"it rhymes nothing"}""", """{"verdict":"pass","reason":"fine"}""");
        await platform.AppHost.GrantPrivateAsync(key, upstream.BaseUrl);
        using (var model = platform.AppHost.Client("model", key))
        {
            (await model.PutAsJsonAsync("/v1/catalog/judge", new
            {
                strategy = "ordered",
                deployments = new[] { new { provider = "openai", model = judge, baseUrl = upstream.BaseUrl, apiKey = "sk-test", inputPricePerMillion = 1, outputPricePerMillion = 2 } },
            })).EnsureSuccessStatusCode();
        }

        await Runs.CreateAgentAsync(platform.AppHost, key, "judged", new { acceptanceModel = "judge", retries = new { maxAttempts = 1, backoffSeconds = 0 } });
        using var orchestrator = platform.AppHost.Client("orchestrator", key);

        var started = await Runs.StartAsync(orchestrator, "judged", "write a haiku about the sea");
        var run = await Runs.WaitForAsync(orchestrator, started.Id(), RunTimeout);

        Assert.True(run.State() == "succeeded", run.ToString());
        Assert.Equal(1, run.GetProperty("replans").GetInt32());
        var refused = run.Steps().Single(s => s.GetProperty("state").GetString() == "superseded");
        Assert.Contains("it rhymes nothing", refused.GetProperty("error").GetString());
        Assert.True(refused.GetProperty("usage").GetProperty("promptTokens").GetInt32() > 100, "the refused answer and its check were paid");
        var judged = upstream.Requests(judge);
        Assert.Equal(2, judged.Count);
        Assert.Contains("Criterion: A text answer", judged[0]["messages"]![1]!["content"]!.GetValue<string>());
        Assert.Equal("json_schema", judged[0]["response_format"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task AReactAgentCallsItsToolsTurnByTurnAndAnswersFromTheirResults()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await Runs.AddRecordToolAsync(platform.AppHost, key, _server);
        await Runs.CreateAgentAsync(platform.AppHost, key, "looper", new { mode = "react" }, Runs.RecordTool);
        using var orchestrator = platform.AppHost.Client("orchestrator", key);

        var started = await Runs.StartAsync(orchestrator, "looper", "Please record \"token-react\" with the http.record tool.");
        var run = await Runs.WaitForAsync(orchestrator, started.Id(), RunTimeout);

        Assert.True(run.State() == "succeeded", run.ToString());
        Assert.Equal(["turn-1", "turn-1-call-0", "turn-2"], run.Steps().Select(s => s.GetProperty("id").GetString()));
        Assert.Equal(["model", "tool", "model"], run.Steps().Select(s => s.GetProperty("kind").GetString()));
        Assert.Equal(Runs.RecordTool, run.Steps().ElementAt(1).GetProperty("tool").GetString());
        Assert.Equal("token-react", run.Steps().ElementAt(1).GetProperty("arguments").GetProperty("run").GetString());
        Assert.Equal(1, _server.CallsByRun.GetValueOrDefault("token-react"));
        Assert.Contains("returned", run.GetProperty("output").GetString());
        Assert.Equal(JsonValueKind.Array, run.Steps().First().GetProperty("output").GetProperty("toolCalls").ValueKind);
    }

    [Fact]
    public async Task AReactAgentAtItsStepLimitMustAnswerWithoutCallingMoreTools()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await Runs.AddRecordToolAsync(platform.AppHost, key, _server);
        await Runs.CreateAgentAsync(platform.AppHost, key, "short", new { mode = "react", maxSteps = 1 }, Runs.RecordTool);
        using var orchestrator = platform.AppHost.Client("orchestrator", key);

        var started = await Runs.StartAsync(orchestrator, "short", "Please record \"token-limited\" with the http.record tool.");
        var run = await Runs.WaitForAsync(orchestrator, started.Id(), RunTimeout);

        Assert.True(run.State() == "succeeded", run.ToString());
        Assert.Equal(["turn-1"], run.Steps().Select(s => s.GetProperty("id").GetString()));
        Assert.Equal(0, _server.CallsByRun.GetValueOrDefault("token-limited"));
    }

    [Fact]
    public async Task AgentPoliciesAreValidated()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        using var orchestrator = platform.AppHost.Client("orchestrator", key);

        using var response = await orchestrator.PostAsJsonAsync("/v1/agents", new
        {
            name = "invalid",
            model = "simulator",
            maxReplans = 11,
            compensations = new Dictionary<string, object> { ["bad tool!"] = new { tool = "x" }, ["http.ok"] = new { tool = "http.undo", arguments = 5 } },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("maxReplans", out _), errors.ToString());
        Assert.True(errors.TryGetProperty("compensations.bad tool!", out _), errors.ToString());
        Assert.True(errors.TryGetProperty("compensations.http.ok.arguments", out _), errors.ToString());
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task<List<string>> EventTypesAsync(string runId)
    {
        await using var connection = new NpgsqlConnection(platform.AppHost.ConnectionString("orchestratordb"));
        return [.. await connection.QueryAsync<string>("SELECT type FROM run_events WHERE run_id = @runId::uuid ORDER BY seq", new { runId })];
    }
}
