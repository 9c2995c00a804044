using System.Globalization;
using System.Text;
using Npgsql;
using Platform.TestSupport;

namespace Platform.Benchmarks;

/// <summary>
/// What the platform's databases executed: calls per statement from pg_stat_statements and committed plus rolled-back
/// transactions from pg_stat_database, read before and after a batch and compared.
/// </summary>
internal sealed record DatabaseCounters(IReadOnlyDictionary<(string Database, string Statement), long> Calls, IReadOnlyDictionary<string, long> Transactions)
{
    private static readonly string[] Databases = ["orchestratordb", "planningdb", "modeldb", "tooldb", LangGraphAnchor.Database];
    private static readonly string[] ServicesWithDatabases = ["orchestrator", "planning", "model", "tool"];

    /// <summary>
    /// The AppHost starts PostgreSQL without pg_stat_statements, which only loads at server start: this preloads it and
    /// restarts the server, with the services that use it stopped meanwhile so that none keeps a connection to the old one.
    /// </summary>
    public static async Task EnableStatementStatisticsAsync(PlatformApp platform)
    {
        await using (var connection = await OpenAsync(platform))
        {
            await ExecuteAsync(connection, "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
        }

        foreach (var service in ServicesWithDatabases)
        {
            await platform.RunCommandAsync(platform.Replicas(service)[0].Id, "stop");
        }

        await platform.RunCommandAsync(platform.Replicas("postgres")[0].Id, "restart");
        using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
        {
            await platform.App.ResourceNotifications.WaitForResourceHealthyAsync("postgres", timeout.Token);
        }

        await using (var connection = await OpenAsync(platform))
        {
            await ExecuteAsync(connection, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        }

        foreach (var service in ServicesWithDatabases)
        {
            await platform.RunCommandAsync(platform.Replicas(service)[0].Id, "start");
            await platform.WaitUntilReplicasServeAsync(service, 1);
        }
    }

    /// <summary>
    /// The counters now. A backend adds its transactions to pg_stat_database at most once a second and within 10 s of
    /// going idle, so this waits 11 s first; pg_stat_statements counts at once.
    /// </summary>
    public static async Task<DatabaseCounters> ReadAsync(PlatformApp platform)
    {
        await Task.Delay(TimeSpan.FromSeconds(11));
        await using var connection = await OpenAsync(platform);
        var calls = new Dictionary<(string, string), long>();
        await using (var command = new NpgsqlCommand("""
            SELECT d.datname, regexp_replace(s.query, '\s+', ' ', 'g'), sum(s.calls)::bigint
            FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
            WHERE d.datname = ANY(@databases)
            GROUP BY 1, 2
            """, connection))
        {
            command.Parameters.AddWithValue("databases", Databases);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                calls[(reader.GetString(0), reader.GetString(1))] = reader.GetInt64(2);
            }
        }

        var transactions = new Dictionary<string, long>();
        await using (var command = new NpgsqlCommand("SELECT datname, xact_commit + xact_rollback FROM pg_stat_database WHERE datname = ANY(@databases)", connection))
        {
            command.Parameters.AddWithValue("databases", Databases);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                transactions[reader.GetString(0)] = reader.GetInt64(1);
            }
        }

        return new DatabaseCounters(calls, transactions);
    }

    /// <summary>Statements and transactions per run since <paramref name="before"/>, each database's, then statement by statement.</summary>
    public string PerRun(DatabaseCounters before, int runs)
    {
        var calls = Calls.Select(c => (c.Key.Database, c.Key.Statement, Calls: c.Value - before.Calls.GetValueOrDefault(c.Key)))
            .Where(c => c.Calls > 0).ToList();
        var report = new StringBuilder($"{"database",-16} {"statements/run",15} {"transactions/run",17}").AppendLine();
        foreach (var database in Databases)
        {
            report.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{database,-16} {calls.Where(c => c.Database == database).Sum(c => c.Calls) / (double)runs,15:0.00} {(Transactions[database] - before.Transactions[database]) / (double)runs,17:0.00}"));
        }

        report.AppendLine("calls/run by statement:");
        foreach (var call in calls.OrderBy(c => Array.IndexOf(Databases, c.Database)).ThenByDescending(c => c.Calls))
        {
            report.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{call.Database,-16} {call.Calls / (double)runs,6:0.00}  {call.Statement[..Math.Min(call.Statement.Length, 100)]}"));
        }

        return report.ToString();
    }

    private static async Task<NpgsqlConnection> OpenAsync(PlatformApp platform)
    {
        var connection = new NpgsqlConnection($"{platform.ConnectionString("postgres")};Database=postgres;Pooling=false");
        await connection.OpenAsync();
        return connection;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
