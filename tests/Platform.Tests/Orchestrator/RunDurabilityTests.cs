using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;
using Platform.TestSupport;

namespace Platform.Tests.Orchestrator;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunDurabilityCollection
{
    public const string Name = "run durability";
}

/// <summary>
/// The promise of durable runs, on a platform of its own with two orchestrator replicas: an accepted run is never
/// lost and a side effect never repeated, through a replica killed with SIGKILL and a Redis restart.
/// </summary>
[Collection(RunDurabilityCollection.Name)]
public sealed class RunDurabilityTests : IAsyncLifetime
{
    private const int RunCount = 100;
    private PlatformApp _app = null!;
    private CountingServer _server = null!;

    public async Task InitializeAsync()
    {
        _app = await PlatformApp.StartAsync("Replicas:orchestrator=2");
        await _app.WaitUntilReplicasServeAsync("orchestrator", 2);
        _server = await CountingServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task HundredRunsAllSucceedWithEachSideEffectOnceThoughAReplicaIsKilledAndRedisRestarts()
    {
        var tenantId = $"t-{Guid.NewGuid():N}"[..20];
        string key;
        using (var admin = _app.Client("orchestrator", _app.AdminApiKey))
        {
            (await admin.PostAsJsonAsync("/v1/tenants", new { id = tenantId, name = "Durability" })).EnsureSuccessStatusCode();
            var issued = await (await admin.PostAsJsonAsync($"/v1/tenants/{tenantId}/keys", new { name = "test", scopes = new[] { "admin" } })).Content.ReadFromJsonAsync<JsonElement>();
            key = issued.GetProperty("key").GetString()!;
        }

        await Runs.AddRecordToolAsync(_app, key, _server);
        await Runs.CreateAgentAsync(_app, key, "durable", null, Runs.RecordTool);
        var replicas = _app.Replicas("orchestrator");
        var victim = replicas[0];
        using var toVictim = PlatformApp.ClientFor(victim.Url!, key);
        using var toSurvivor = PlatformApp.ClientFor(replicas[1].Url!, key);

        // Half the runs are accepted by each replica, which then holds and runs them.
        var runIds = await Task.WhenAll(Enumerable.Range(0, RunCount).Select(async i =>
            (await Runs.StartAsync(i % 2 == 0 ? toVictim : toSurvivor, "durable", Runs.ThreeStepGoal($"token-{i}"), idempotencyKey: $"durable-{i}")).Id()));

        await WaitUntilAsync("a fifth of the tool calls to happen", TimeSpan.FromMinutes(2), () => _server.Count >= RunCount / 5);
        Process.GetProcessById(victim.Pid!.Value).Kill();
        await WaitUntilAsync("half of the tool calls to happen", TimeSpan.FromMinutes(2), () => _server.Count >= RunCount / 2);
        await _app.RunCommandAsync("cache", "restart");

        var runs = new List<JsonElement>();
        foreach (var runId in runIds)
        {
            runs.Add(await Runs.WaitForAsync(toSurvivor, runId, TimeSpan.FromMinutes(4)));
        }

        Assert.All(runs, run => Assert.True(run.State() == "succeeded", $"Run {run.Id()} ended {run.State()}: {run.GetProperty("reason")}"));
        Assert.Equal(RunCount, _server.Count);
        Assert.All(Enumerable.Range(0, RunCount), i => Assert.Equal(1, _server.CallsByRun.GetValueOrDefault($"token-{i}")));

        await using var modelDb = new NpgsqlConnection(_app.ConnectionString("modeldb"));
        var repeated = (await modelDb.QueryAsync<string>("""
            SELECT idempotency_key FROM usage_ledger
            WHERE tenant_id = @tenantId AND idempotency_key IS NOT NULL AND NOT cache_hit
            GROUP BY idempotency_key HAVING count(*) > 1
            """, new { tenantId })).ToList();
        Assert.True(repeated.Count == 0, $"Model calls paid more than once: {string.Join(", ", repeated)}");
        var modelSteps = runs.Sum(run => run.Steps().Count(s => s.GetProperty("kind").GetString() == "model"));
        Assert.Equal(2 * RunCount, modelSteps);
        Assert.True(await modelDb.ExecuteScalarAsync<long>(
            "SELECT count(DISTINCT idempotency_key) FROM usage_ledger WHERE tenant_id = @tenantId AND idempotency_key LIKE 'run:%'", new { tenantId }) >= modelSteps);
    }
}
