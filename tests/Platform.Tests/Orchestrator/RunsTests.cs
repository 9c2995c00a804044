using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace Platform.Tests.Orchestrator;

/// <summary>Durable runs on one orchestrator: planned, executed through the gateway and the tool service, steered through the API.</summary>
[Collection(PlatformCollection.Name)]
public sealed class RunsTests(PlatformFixture platform) : IAsyncLifetime
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(90);
    private CountingServer _server = null!;

    public async Task InitializeAsync() => _server = await CountingServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task AGoalBecomesAPlannedRunWhoseStepsCallTheGatewayAndTheToolOnce()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await Runs.AddRecordToolAsync(platform.AppHost, key, _server);
        await Runs.CreateAgentAsync(platform.AppHost, key, "greeter", null, Runs.RecordTool);
        using var orchestrator = platform.AppHost.Client("orchestrator", key);

        var accepted = await Runs.StartAsync(orchestrator, "greeter", Runs.ThreeStepGoal("token-1"));
        var run = await Runs.WaitForAsync(orchestrator, accepted.Id(), RunTimeout);

        Assert.Equal("succeeded", run.State());
        Assert.Equal(["model", "tool", "model"], run.Steps().Select(s => s.GetProperty("kind").GetString()));
        Assert.All(run.Steps(), s => Assert.Equal("succeeded", s.GetProperty("state").GetString()));
        Assert.Equal(1, _server.CallsByRun.GetValueOrDefault("token-1"));
        Assert.Equal(JsonValueKind.String, run.GetProperty("output").ValueKind);
        Assert.True(run.GetProperty("usage").GetProperty("promptTokens").GetInt32() > 0);
        Assert.Equal(1, run.GetProperty("agentVersion").GetInt32());

        var types = (await EventsAsync(accepted.Id())).Select(e => e.Type).ToList();
        Assert.Equal(["run.queued", "run.planning", "run.planned"], types.Take(3));
        Assert.Equal("run.succeeded", types[^1]);
        Assert.Equal(3, types.Count(t => t == "step.succeeded"));
    }

    [Fact]
    public async Task TheSameIdempotencyKeyGivesTheSameRunAndAnotherRequestWithItIsAConflict()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await Runs.CreateAgentAsync(platform.AppHost, key, "writer");
        using var orchestrator = platform.AppHost.Client("orchestrator", key);

        var first = await Runs.StartAsync(orchestrator, "writer", "write a haiku", idempotencyKey: "order-42");
        var again = await Runs.StartAsync(orchestrator, "writer", "write a haiku", idempotencyKey: "order-42");
        using var other = new HttpRequestMessage(HttpMethod.Post, "/v1/runs") { Content = JsonContent.Create(new { agent = "writer", goal = "write a limerick" }) };
        other.Headers.Add("Idempotency-Key", "order-42");
        using var conflict = await orchestrator.SendAsync(other);

        Assert.Equal(first.Id(), again.Id());
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Equal(1L, await CountAsync("SELECT count(*) FROM runs WHERE idempotency_key = 'order-42' AND id = @id::uuid", new { id = first.Id() }));
    }

    [Fact]
    public async Task AnotherTenantNeitherSeesNorSteersARun()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        var (_, otherKey) = await platform.NewTenantAsync("admin");
        await Runs.CreateAgentAsync(platform.AppHost, key, "private");
        using var owner = platform.AppHost.Client("orchestrator", key);
        using var stranger = platform.AppHost.Client("orchestrator", otherKey);
        var run = await Runs.StartAsync(owner, "private", "write a haiku");

        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/v1/runs/{run.Id()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync($"/v1/runs/{run.Id()}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/v1/runs/{run.Id()}/events")).StatusCode);
        Assert.DoesNotContain(run.Id(), await stranger.GetStringAsync("/v1/runs"));
        var missing = await stranger.PostAsJsonAsync("/v1/runs", new { agent = "private", goal = "steal" });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
    }

    [Fact]
    public async Task AnApprovalStepParksTheRunHoldingNoWorkerUntilApprovedAndADenialFailsIt()
    {
        var (tenantId, key) = await platform.NewTenantAsync("admin");
        await Runs.CreateAgentAsync(platform.AppHost, key, "careful");
        using var orchestrator = platform.AppHost.Client("orchestrator", key);
        using var approver = platform.AppHost.Client("orchestrator", await platform.IssueKeyAsync(tenantId, "approve"));
        const string Goal = "draft a note, then approve it with a human, then write it up";

        var approved = await Runs.StartAsync(orchestrator, "careful", Goal);
        var parked = await Runs.WaitForAsync(orchestrator, approved.Id(), RunTimeout, "waiting_approval");
        var gate = parked.Steps().Single(s => s.GetProperty("kind").GetString() == "approval").GetProperty("id").GetString();
        Assert.Equal(0L, await CountAsync("SELECT count(*) FROM runs WHERE id = @id::uuid AND lease_owner IS NOT NULL", new { id = approved.Id() }));
        (await approver.PostAsJsonAsync($"/v1/runs/{approved.Id()}/steps/{gate}/approve", new { reason = "looks fine" })).EnsureSuccessStatusCode();
        Assert.Equal("succeeded", (await Runs.WaitForAsync(orchestrator, approved.Id(), RunTimeout)).State());

        var denied = await Runs.StartAsync(orchestrator, "careful", Goal);
        await Runs.WaitForAsync(orchestrator, denied.Id(), RunTimeout, "waiting_approval");
        (await approver.PostAsJsonAsync($"/v1/runs/{denied.Id()}/steps/{gate}/deny", new { reason = "not today" })).EnsureSuccessStatusCode();
        var failed = await Runs.WaitForAsync(orchestrator, denied.Id(), RunTimeout);
        Assert.Equal("failed", failed.State());
        Assert.Contains("not today", failed.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task NeitherTheKeyThatStartedARunNorARunsKeyDecidesItsApprovals()
    {
        var (tenantId, key) = await platform.NewTenantAsync("admin");
        await Runs.CreateAgentAsync(platform.AppHost, key, "four-eyes");
        using var starter = platform.AppHost.Client("orchestrator", key);
        using var runsOnly = platform.AppHost.Client("orchestrator", await platform.IssueKeyAsync(tenantId, "runs"));
        using var approver = platform.AppHost.Client("orchestrator", await platform.IssueKeyAsync(tenantId, "approve"));

        var started = await Runs.StartAsync(starter, "four-eyes", "draft a note, then approve it with a human, then write it up");
        var parked = await Runs.WaitForAsync(starter, started.Id(), RunTimeout, "waiting_approval");
        var gate = parked.Steps().Single(s => s.GetProperty("kind").GetString() == "approval").GetProperty("id").GetString();
        using var byStarter = await starter.PostAsJsonAsync($"/v1/runs/{started.Id()}/steps/{gate}/approve", new { reason = "mine" });
        using var byRunsKey = await runsOnly.PostAsJsonAsync($"/v1/runs/{started.Id()}/steps/{gate}/approve", new { reason = "mine too" });
        var stillParked = await Runs.GetAsync(starter, started.Id());
        using var byApprover = await approver.PostAsJsonAsync($"/v1/runs/{started.Id()}/steps/{gate}/approve", new { reason = "four eyes" });

        Assert.Equal(HttpStatusCode.Forbidden, byStarter.StatusCode);
        Assert.Contains("cannot decide", await byStarter.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, byRunsKey.StatusCode);
        Assert.Equal("waiting_approval", stillParked.State());
        Assert.Equal(HttpStatusCode.OK, byApprover.StatusCode);
        Assert.Equal("succeeded", (await Runs.WaitForAsync(starter, started.Id(), RunTimeout)).State());
    }

    [Fact]
    public async Task AToolCallHeldForTheToolServicesApprovalResumesTheRunWhenApproved()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await Runs.AddRecordToolAsync(platform.AppHost, key, _server);
        using var tool = platform.AppHost.Client("tool", key);
        (await tool.PutAsJsonAsync($"/v1/tools/{Runs.RecordTool}/policy", new { approval = new { always = true } })).EnsureSuccessStatusCode();
        await Runs.CreateAgentAsync(platform.AppHost, key, "audited", null, Runs.RecordTool);
        using var orchestrator = platform.AppHost.Client("orchestrator", key);

        var run = await Runs.StartAsync(orchestrator, "audited", Runs.ThreeStepGoal("token-audited"));
        var parked = await Runs.WaitForAsync(orchestrator, run.Id(), RunTimeout, "waiting_approval");
        Assert.Equal(0, _server.CallsByRun.GetValueOrDefault("token-audited"));
        var pending = (await tool.GetFromJsonAsync<JsonElement>("/v1/approvals?status=pending")).EnumerateArray().ToList();
        var invocationId = parked.Steps().Single(st => st.GetProperty("kind").GetString() == "tool").GetProperty("invocationId").ToString();
        var approval = pending.SingleOrDefault(a => a.GetProperty("tool").GetString() == Runs.RecordTool);
        Assert.True(approval.ValueKind == JsonValueKind.Object, $"No pending approval; the run: {parked}; its invocation: {await tool.GetStringAsync($"/v1/invocations/{invocationId}")}");
        (await tool.PostAsJsonAsync($"/v1/approvals/{approval.GetProperty("id").GetString()}/approve", new { reason = "ok" })).EnsureSuccessStatusCode();

        // The decision wakes the run at once; the recheck (30 s) would be later than this wait.
        var finished = await Runs.WaitForAsync(orchestrator, run.Id(), TimeSpan.FromSeconds(20));
        Assert.Equal("succeeded", finished.State());
        Assert.Equal(1, _server.CallsByRun.GetValueOrDefault("token-audited"));
    }

    [Fact]
    public async Task CancellingARunMidStepEndsItCancelled()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await Runs.AddRecordToolAsync(platform.AppHost, key, _server, path: "slow");
        await Runs.CreateAgentAsync(platform.AppHost, key, "slowpoke", null, Runs.RecordTool);
        using var orchestrator = platform.AppHost.Client("orchestrator", key);

        var run = await Runs.StartAsync(orchestrator, "slowpoke", Runs.ThreeStepGoal("token-slow"));
        await WaitUntilAsync("the tool step to start", RunTimeout, () => Runs.GetAsync(orchestrator, run.Id()),
            current => current.Steps().Any(s => s.GetProperty("kind").GetString() == "tool" && s.GetProperty("state").GetString() == "running"),
            current => current.ToString());

        using var cancel = await orchestrator.PostAsync($"/v1/runs/{run.Id()}/cancel", null);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal("cancelled", (await Runs.WaitForAsync(orchestrator, run.Id(), TimeSpan.FromSeconds(15))).State());
        Assert.Equal(HttpStatusCode.Conflict, (await orchestrator.PostAsync($"/v1/runs/{run.Id()}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task RetryRunsTheFailedStepAgainAndKeepsTheCompletedOnes()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await Runs.AddRecordToolAsync(platform.AppHost, key, _server, path: "flaky");
        await Runs.CreateAgentAsync(platform.AppHost, key, "fragile", new { retries = new { maxAttempts = 1, backoffSeconds = 0 }, maxReplans = 0 }, Runs.RecordTool);
        using var orchestrator = platform.AppHost.Client("orchestrator", key);
        _server.Failing = true;

        var run = await Runs.StartAsync(orchestrator, "fragile", Runs.ThreeStepGoal("token-flaky"));
        var failed = await Runs.WaitForAsync(orchestrator, run.Id(), RunTimeout);
        Assert.Equal("failed", failed.State());
        var firstStep = failed.Steps().First();
        Assert.Equal("succeeded", firstStep.GetProperty("state").GetString());

        _server.Failing = false;
        using var retry = await orchestrator.PostAsync($"/v1/runs/{run.Id()}/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        var succeeded = await Runs.WaitForAsync(orchestrator, run.Id(), RunTimeout);

        Assert.Equal("succeeded", succeeded.State());
        var kept = succeeded.Steps().First();
        Assert.Equal(1, kept.GetProperty("attempts").GetInt32());
        Assert.Equal(firstStep.GetProperty("output").GetRawText(), kept.GetProperty("output").GetRawText());
        Assert.Equal(2, succeeded.Steps().Single(s => s.GetProperty("kind").GetString() == "tool").GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task ARunStopsFailedWhenItsBudgetIsSpent()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        using (var model = platform.AppHost.Client("model", key))
        {
            (await model.PutAsJsonAsync("/v1/catalog/priced", new
            {
                strategy = "ordered",
                deployments = new[] { new { provider = "simulator", model = "platform-simulator-1", inputPricePerMillion = 10m, outputPricePerMillion = 0m } },
            })).EnsureSuccessStatusCode();
        }

        // The plan's estimate (a few hundred tokens a step) fits the budget; the long input the steps read does not.
        await Runs.CreateAgentAsync(platform.AppHost, key, "spender", new { model = "priced", budgetUsd = 0.05m });
        using var orchestrator = platform.AppHost.Client("orchestrator", key);

        var started = await Runs.StartAsync(orchestrator, "spender", "draft a greeting, then write a reply, then write a closing line", input: string.Join(' ', Enumerable.Repeat("word", 10_000)));
        var run = await Runs.WaitForAsync(orchestrator, started.Id(), RunTimeout);

        Assert.Equal("failed", run.State());
        Assert.Contains("budget of 0.05 USD is spent", run.GetProperty("reason").GetString());
        Assert.True(run.GetProperty("usage").GetProperty("costUsd").GetDecimal() >= 0.05m);
        Assert.Contains(run.Steps(), s => s.GetProperty("state").GetString() == "pending");
    }

    [Fact]
    public async Task EventsStreamLiveAndResumeFromLastEventIdWithNoGapAndNoRepeat()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await Runs.AddRecordToolAsync(platform.AppHost, key, _server);
        await Runs.CreateAgentAsync(platform.AppHost, key, "streamer", null, Runs.RecordTool);
        using var orchestrator = platform.AppHost.Client("orchestrator", key);
        var run = await Runs.StartAsync(orchestrator, "streamer", Runs.ThreeStepGoal("token-stream"));

        var first = await ReadEventsAsync(orchestrator, run.Id(), lastEventId: null, stopAfter: 3);
        var rest = await ReadEventsAsync(orchestrator, run.Id(), lastEventId: first[^1].Seq, stopAfter: int.MaxValue);
        var streamed = first.Concat(rest).ToList();

        var log = await EventsAsync(run.Id());
        Assert.Equal(log.Select(e => (e.Seq, e.Type)), streamed.Select(e => (e.Seq, e.Type)));
        Assert.Equal("run.succeeded", streamed[^1].Type);
    }

    /// <summary>Reads the run's stream until <paramref name="stopAfter"/> logged events or its end; deltas are skipped.</summary>
    private static async Task<List<(int Seq, string Type)>> ReadEventsAsync(HttpClient orchestrator, string runId, int? lastEventId, int stopAfter)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/runs/{runId}/events");
        if (lastEventId is { } id)
        {
            request.Headers.Add("Last-Event-ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        using var timeout = new CancellationTokenSource(RunTimeout);
        using var response = await orchestrator.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        var events = new List<(int, string)>();
        int? seq = null;
        string? type = null;
        while (events.Count < stopAfter && await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                seq = int.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line[7..];
            }
            else if (line.Length == 0 && type is not null)
            {
                if (seq is { } s)
                {
                    events.Add((s, type));
                }

                (seq, type) = (null, null);
            }
        }

        return events;
    }

    private async Task<List<(int Seq, string Type)>> EventsAsync(string runId)
    {
        await using var connection = new NpgsqlConnection(platform.AppHost.ConnectionString("orchestratordb"));
        return [.. await connection.QueryAsync<(int, string)>("SELECT seq, type FROM run_events WHERE run_id = @runId::uuid ORDER BY seq", new { runId })];
    }

    private async Task<long> CountAsync(string sql, object parameters)
    {
        await using var connection = new NpgsqlConnection(platform.AppHost.ConnectionString("orchestratordb"));
        return await connection.ExecuteScalarAsync<long>(sql, parameters);
    }
}
