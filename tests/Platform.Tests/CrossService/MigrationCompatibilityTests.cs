using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Platform.ServiceDefaults.Data;
using Platform.TestSupport;

namespace Platform.Tests.CrossService;

/// <summary>
/// Rolling upgrades: a version's migrations only expand the schema (docs/operations/rollouts.md), so the version before
/// keeps serving while they apply and until its last replica is replaced.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed partial class MigrationCompatibilityTests(PlatformFixture platform) : IAsyncLifetime
{
    private static readonly string[] Services = ["orchestrator", "planning", "model", "tool"];

    // Shipped before the first release, when no earlier version had to keep serving: plans' steps moved into revisions.
    private static readonly string[] BeforeTheRule = ["planning/0002_plan_revisions"];

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

    [Fact]
    public void ShippedMigrationsOnlyExpandTheSchema()
    {
        var shipped = Services.SelectMany(service => Directory.GetFiles(Path.Combine(Repository.Root, "services", service, "Migrations"), "*.sql")
            .Select(file => (Name: $"{service}/{Path.GetFileNameWithoutExtension(file)}", Sql: File.ReadAllText(file)))).ToList();
        var next = Services.SelectMany(service => NextVersion(service).Migrations.Select(m => (Name: $"next {service}/{m.Id}", m.Sql)));

        Assert.True(shipped.Count >= 14, $"{shipped.Count} migrations found");
        var violations = shipped.Where(m => !BeforeTheRule.Contains(m.Name)).Concat(next)
            .SelectMany(m => ContractingStatements(m.Sql).Select(statement => $"{m.Name}: {statement}"));
        Assert.Empty(violations);
        Assert.All(BeforeTheRule, name => Assert.NotEmpty(ContractingStatements(shipped.Single(m => m.Name == name).Sql)));
    }

    [Theory]
    [InlineData("ALTER TABLE runs DROP COLUMN goal;")]
    [InlineData("DROP TABLE agents;")]
    [InlineData("ALTER TABLE agents RENAME COLUMN instructions TO prompt;")]
    [InlineData("ALTER TABLE runs RENAME TO workflow_runs;")]
    [InlineData("ALTER TABLE runs ALTER COLUMN goal TYPE varchar(200);")]
    [InlineData("ALTER TABLE runs ALTER COLUMN agent SET NOT NULL;")]
    [InlineData("ALTER TABLE runs ADD COLUMN owner text NOT NULL;")]
    [InlineData("ALTER TABLE runs ADD CONSTRAINT goal_short CHECK (length(goal) < 100);")]
    [InlineData("CREATE UNIQUE INDEX runs_goal ON runs (goal);")]
    public void TheRuleRefusesWhatBreaksTheVersionBefore(string sql) => Assert.NotEmpty(ContractingStatements(sql));

    [Theory]
    [InlineData("ALTER TABLE runs ADD COLUMN labels jsonb;")]
    [InlineData("ALTER TABLE runs ADD COLUMN priority integer NOT NULL DEFAULT 0;")]
    [InlineData("CREATE TABLE schedules (id uuid PRIMARY KEY, cron text NOT NULL, CONSTRAINT cron_set CHECK (cron <> ''));\nCREATE UNIQUE INDEX schedules_cron ON schedules (cron);")]
    [InlineData("CREATE INDEX runs_created ON runs (created_at);")]
    [InlineData("ALTER TABLE runs ALTER COLUMN goal DROP NOT NULL;")]
    [InlineData("ALTER TABLE runs ADD COLUMN idempotency_key text NULL;\nCREATE UNIQUE INDEX runs_key ON runs (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;")]
    public void TheRuleAllowsWhatTheVersionBeforeIgnores(string sql) => Assert.Empty(ContractingStatements(sql));

    /// <summary>
    /// Statements that can break a version still serving: removing or renaming what it reads, or refusing what it writes.
    /// Tables created in the same migration are new to every version, so anything on them is allowed.
    /// </summary>
    private static List<string> ContractingStatements(string sql)
    {
        var statements = CommentPattern().Replace(sql, "").Split(';').Select(s => WhitespacePattern().Replace(s, " ").Trim()).Where(s => s.Length > 0).ToList();
        var created = statements.Select(s => CreateTablePattern().Match(s)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var addedNullable = statements.SelectMany(s => AddColumnPattern().Matches(s))
            .Where(column => !column.Value.Contains("NOT NULL", StringComparison.OrdinalIgnoreCase) && !column.Value.Contains("DEFAULT", StringComparison.OrdinalIgnoreCase))
            .Select(column => column.Groups[1].Value).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return statements.Where(statement =>
        {
            var table = TargetTablePattern().Match(statement);
            if (table.Success && created.Contains(table.Groups[1].Value))
            {
                return false;
            }

            // The version before writes NULL into a column it does not know, and NULLs never collide in a unique index.
            if (UniqueIndexPattern().Match(statement) is { Success: true } index && !statement.Contains("NULLS NOT DISTINCT", StringComparison.OrdinalIgnoreCase)
                && index.Groups[1].Value.Split(',').Any(column => addedNullable.Contains(column.Trim())))
            {
                return false;
            }

            return ContractingPattern().IsMatch(statement)
                || AddColumnPattern().Matches(statement).Any(column => column.Value.Contains("NOT NULL", StringComparison.OrdinalIgnoreCase)
                    && !column.Value.Contains("DEFAULT", StringComparison.OrdinalIgnoreCase));
        }).ToList();
    }

    private static MigrationSource NextVersion(string service) => new(typeof(MigrationCompatibilityTests).Assembly, $"NextVersion.{service}");

    private string Database(string service) => $"{platform.AppHost.ConnectionString("postgres")};Database={service}db";

    [GeneratedRegex(@"--[^\n]*")]
    private static partial Regex CommentPattern();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhitespacePattern();

    [GeneratedRegex(@"^CREATE TABLE (?:IF NOT EXISTS )?(\w+)", RegexOptions.IgnoreCase)]
    private static partial Regex CreateTablePattern();

    [GeneratedRegex(@"^(?:ALTER TABLE (?:IF EXISTS )?(?:ONLY )?|CREATE (?:UNIQUE )?INDEX (?:CONCURRENTLY )?(?:IF NOT EXISTS )?\w+ ON |CREATE TABLE (?:IF NOT EXISTS )?|DROP TABLE (?:IF EXISTS )?)(\w+)", RegexOptions.IgnoreCase)]
    private static partial Regex TargetTablePattern();

    [GeneratedRegex(@"\bDROP (?:TABLE|COLUMN)\b|\bRENAME\b|\bALTER COLUMN \w+ (?:SET DATA )?TYPE\b|\bSET NOT NULL\b|\bADD CONSTRAINT\b|\bCREATE UNIQUE INDEX\b", RegexOptions.IgnoreCase)]
    private static partial Regex ContractingPattern();

    [GeneratedRegex(@"^CREATE UNIQUE INDEX .*? ON \w+ \(([^)]*)\)", RegexOptions.IgnoreCase)]
    private static partial Regex UniqueIndexPattern();

    [GeneratedRegex(@"\bADD COLUMN (?:IF NOT EXISTS )?(\w+)[^,]*", RegexOptions.IgnoreCase)]
    private static partial Regex AddColumnPattern();
}
