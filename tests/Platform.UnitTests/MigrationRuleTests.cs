using System.Text.RegularExpressions;
using Platform.TestSupport;

namespace Platform.UnitTests;

/// <summary>
/// The rule rolling upgrades rest on (docs/operations/rollouts.md): a version's migrations only expand the schema, so
/// the version before keeps serving while they apply. The end-to-end proof, applying the next version's migrations
/// under traffic, is <c>MigrationCompatibilityTests</c> in Platform.Tests.
/// </summary>
public sealed partial class MigrationRuleTests
{
    private static readonly string[] Services = ["orchestrator", "planning", "model", "tool"];

    // Shipped before the first release, when no earlier version had to keep serving: plans' steps moved into revisions.
    private static readonly string[] BeforeTheRule = ["planning/0002_plan_revisions"];

    [Fact]
    public void ShippedMigrationsOnlyExpandTheSchema()
    {
        var shipped = Services.SelectMany(service => Migrations(Path.Combine(Repository.Root, "services", service, "Migrations"), service)).ToList();
        var next = Services.SelectMany(service => Migrations(Path.Combine(Repository.Root, "tests", "Platform.Tests", "NextVersion", service), $"next {service}"));

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

    /// <summary>A folder's migrations, named as the violations list names them.</summary>
    private static IEnumerable<(string Name, string Sql)> Migrations(string folder, string namedAs) =>
        Directory.GetFiles(folder, "*.sql").Select(file => ($"{namedAs}/{Path.GetFileNameWithoutExtension(file)}", File.ReadAllText(file)));

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
