using System.Collections.Concurrent;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Platform.ServiceDefaults.Data;

namespace Platform.Tests.CrossService;

/// <summary>
/// Rolling upgrades: a version's migrations only expand the schema (docs/operations/rollouts.md), so the version before
/// keeps serving while they apply and until its last replica is replaced.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class MigrationCompatibilityTests(PlatformFixture platform) : IAsyncLifetime
{
    private static readonly string[] Services = ["orchestrator", "planning", "model", "tool"];

    private CountingServer _server = null!;

    public async Task InitializeAsync() => _server = await CountingServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task TheNextVersionsMigrationsApplyWhileThisVersionKeepsServingRuns()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await Runs.AddRecordToolAsync(platform.AppHost, key, _server);
        await Runs.CreateAgentAsync(platform.AppHost, key, "upgrader", null, Runs.RecordTool);
        var succeeded = new ConcurrentBag<string>(); // the tokens the runs recorded with the tool
        var failures = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();

        // Runs touch every service's database: runs and steps, plans, the usage ledger, tool invocations.
        var traffic = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            using var orchestrator = platform.AppHost.Client("orchestrator", key);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var token = $"upgrade-{Guid.NewGuid():N}";
                    var run = await Runs.StartAsync(orchestrator, "upgrader", Runs.ThreeStepGoal(token));
                    var ended = await Runs.WaitForAsync(orchestrator, run.Id(), TimeSpan.FromSeconds(90), "succeeded", "failed", "cancelled");
                    (ended.State() == "succeeded" ? succeeded : failures).Add(ended.State() == "succeeded" ? token : $"{ended.Id()} ended {ended.State()}");
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failures.Add(e.Message);
                }
            }
        })).ToList();

        await WaitUntilAsync("three runs to succeed before the upgrade", TimeSpan.FromMinutes(3), () => Task.FromResult(succeeded.Count),
            count => count >= 3, count => $"{count} succeeded; failures: {string.Join("; ", failures)}");
        foreach (var service in Services)
        {
            await using var dataSource = NpgsqlDataSource.Create(Database(service));
            await new MigrationRunner(dataSource, NextVersion(service), NullLogger<MigrationRunner>.Instance).StartAsync(CancellationToken.None);
        }

        var beforeUpgrade = succeeded.Count;
        await WaitUntilAsync("six more runs to succeed after the upgrade", TimeSpan.FromMinutes(3), () => Task.FromResult(succeeded.Count),
            count => count >= beforeUpgrade + 6, count => $"{count - beforeUpgrade} succeeded; failures: {string.Join("; ", failures)}");
        await stop.CancelAsync();
        await Task.WhenAll(traffic);

        Assert.Empty(failures);
        Assert.All(succeeded, token => Assert.Equal(1, _server.CallsByRun.GetValueOrDefault(token)));
        foreach (var service in Services)
        {
            await using var connection = new NpgsqlConnection(Database(service));
            var applied = await connection.QueryAsync<string>("SELECT id FROM schema_migrations");
            Assert.Superset(NextVersion(service).Migrations.Select(m => m.Id).ToHashSet(), applied.ToHashSet());
        }
    }

    private static MigrationSource NextVersion(string service) => new(typeof(MigrationCompatibilityTests).Assembly, $"NextVersion.{service}");

    private string Database(string service) => $"{platform.AppHost.ConnectionString("postgres")};Database={service}db";
}
